"""An immutable geo index over one kind's records: a point grid, an STRtree for the rest, rebuilt and swapped.

Readers never see a half-built index: a change builds a new ``GeoIndex`` and replaces one reference.
Candidates are found in degrees; distances are then measured in metres (``travel.spatial``).

Most records are points (POIs, most events). They are kept in latitude bands, each sorted by
longitude, so a box query is two bisections per band and a slice: a few microseconds, where an
STRtree query costs a shapely box, numpy calls and array conversions, several times more for the
handful of results an API query has. Lines and polygons stay in an STRtree, only queried when there
are any.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from travel.spatial import (
    degree_box,
    distance_between_m,
    distance_m,
    haversine_m,
    haversine_many,
    metres_to_degrees,
)

MAX_SEARCH_M = 3_000_000.0
VECTOR_FROM = 256  # candidates above which numpy's per-call overhead pays off
BAND_DEG = 0.1  # latitude band height: a 10 km query reads 2–3 bands

Located = tuple[int, float, float]  # (position in the index, lon, lat) of a point
_second = itemgetter(1)  # the metres of an (id, metres) pair


@dataclass(frozen=True, slots=True)
class Band:
    """The points of one latitude band, sorted by longitude; ``lons`` is their longitude column."""

    lons: list[float]
    points: list[Located]


def _band(lat: float) -> int:
    return math.floor(lat / BAND_DEG)


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """Record ids and geometries by position; points in ``bands``, other geometries in ``shapes``.

    ``shape_at[j]`` is the position of the ``j``-th geometry of the ``shapes`` tree.
    """

    ids: list[str]
    geoms: NDArray[np.object_]
    bands: dict[int, Band]
    shapes: STRtree | None
    shape_at: NDArray[np.intp]

    @classmethod
    def build(cls, items: Iterable[tuple[str, BaseGeometry]]) -> GeoIndex:
        """Index (id, geometry) pairs."""
        pairs = list(items)
        geoms = np.array([g for _, g in pairs], dtype=object)
        by_band: dict[int, list[Located]] = {}
        shape_at = []
        for i, (_, g) in enumerate(pairs):
            if isinstance(g, Point) and not g.is_empty:
                by_band.setdefault(_band(g.y), []).append((i, g.x, g.y))
            else:
                shape_at.append(i)
        bands = {}
        for key, points in by_band.items():
            points.sort(key=_lon)
            bands[key] = Band([p[1] for p in points], points)
        positions = np.array(shape_at, dtype=np.intp)
        shapes = STRtree(geoms[positions]) if shape_at else None
        return cls([i for i, _ in pairs], geoms, bands, shapes, positions)

    def _points_in(self, west: float, south: float, east: float, north: float) -> list[Located]:
        """Points inside the box, boundary included (as ``intersects`` counts it)."""
        low, high = _band(south), _band(north)
        bands = self.bands
        keys: Iterable[int] = range(low, high + 1)
        if high - low >= len(bands):  # a huge box: visit occupied bands instead
            keys = [k for k in bands if low <= k <= high]
        found: list[Located] = []
        for key in keys:
            band = bands.get(key)
            if band is None:
                continue
            points = band.points[bisect_left(band.lons, west):bisect_right(band.lons, east)]
            if low < key < high:  # an inner band lies wholly inside the box
                found += points
            else:
                found += [p for p in points if south <= p[2] <= north]
        return found

    def _shapes_near(self, area: BaseGeometry, predicate: str | None = None) -> list[int]:
        """Positions of non-point geometries meeting ``area`` (by envelope without ``predicate``)."""
        if self.shapes is None:
            return []
        return self.shape_at[self.shapes.query(area, predicate=predicate)].tolist()

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[str]:
        """Ids of geometries intersecting the box, in index order."""
        found = [p[0] for p in self._points_in(west, south, east, north)]
        if self.shapes is not None:
            found += self._shapes_near(shapely.box(west, south, east, north), "intersects")
        found.sort()
        ids = self.ids
        return [ids[i] for i in found]

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``radius_m`` of the point, nearest first."""
        box = degree_box(lon, lat, radius_m)
        points = self._points_in(*box)
        ids = self.ids
        if len(points) > VECTOR_FROM:
            lons = np.fromiter((p[1] for p in points), float, len(points))
            lats = np.fromiter((p[2] for p in points), float, len(points))
            dist = haversine_many(lon, lat, lons, lats).tolist()
            hits = [(ids[p[0]], d) for p, d in zip(points, dist, strict=True) if d <= radius_m]
        else:
            hits = [(ids[p[0]], d) for p in points if (d := haversine_m(lon, lat, p[1], p[2])) <= radius_m]
        if self.shapes is not None:
            geoms = self.geoms
            near = [(i, distance_m(geoms[i], lon, lat)) for i in self._shapes_near(shapely.box(*box))]
            hits += [(ids[i], d) for i, d in near if d <= radius_m]
        hits.sort(key=_second)
        return hits

    def nearest(self, lon: float, lat: float, k: int, max_m: float | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest (id, metres), searching outwards until certain."""
        limit = min(max_m if max_m is not None else MAX_SEARCH_M, MAX_SEARCH_M)
        radius = min(5_000.0, limit)
        while True:
            found = self.within(lon, lat, radius)
            if len(found) >= k or radius >= limit:
                return found[:k]
            radius = min(radius * 4, limit)

    def along(self, line: LineString, within_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``within_m`` of a lon/lat line, nearest first."""
        centre = line.centroid
        area = shapely.buffer(line, metres_to_degrees(within_m, centre.y))
        candidates = [p[0] for p in self._points_in(*area.bounds)] + self._shapes_near(area)
        hits = []
        for i in candidates:
            d = distance_between_m(self.geoms[i], line)
            if d <= within_m:
                hits.append((self.ids[i], d))
        hits.sort(key=_second)
        return hits


def _lon(point: Located) -> float:
    return point[1]
