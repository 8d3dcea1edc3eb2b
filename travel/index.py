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
from math import asin, sin, sqrt
from operator import itemgetter

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from travel.spatial import (
    EARTH_RADIUS_M,
    degree_box,
    distance_between_m,
    distance_m,
    haversine_many,
    metres_to_degrees,
)

MAX_SEARCH_M = 3_000_000.0
VECTOR_FROM = 256  # candidates in a band above which numpy's per-call overhead pays off
BAND_DEG = 0.1  # latitude band height: a 10 km query reads 2–3 bands
_RAD = math.pi / 180.0  # what math.radians multiplies by
_DIAMETER_M = 2 * EARTH_RADIUS_M

Located = tuple[int, float, float]  # (position in the index, lon, lat) of a point
Placed = tuple[float, float, float, float, int]  # (lon, lat, lat in radians, its cosine, position) of a point
_second = itemgetter(1)  # the metres of an (id, metres) pair, the lon of a Located


@dataclass(frozen=True, slots=True)
class Band:
    """The points of one latitude band, sorted by longitude.

    Laid out for memory locality as much as for operation count, since a query's cost is largely
    cache misses on scattered Python objects: the floats of ``lons`` (what bisection reads) were
    allocated in longitude order, so they are neighbours in memory, and each point's numbers sit in
    one tuple of ``points`` next to its neighbours'. The per-point half of the haversine formula
    (latitude in radians, its cosine) is computed once here; the numpy columns serve slices too
    long for a Python loop.
    """

    lons: list[float]
    points: list[Placed]
    lons_np: NDArray[np.float64]
    lats_np: NDArray[np.float64]

    @classmethod
    def of(cls, located: list[Located]) -> Band:
        """The band of ``located`` points (any order)."""
        located = sorted(located, key=_second)
        lons_np = np.array([p[1] for p in located], dtype=float)
        lats_np = np.array([p[2] for p in located], dtype=float)
        lons, lats = lons_np.tolist(), lats_np.tolist()  # fresh floats, allocated in order
        phis = [math.radians(y) for y in lats]
        cosines = [math.cos(p) for p in phis]
        return cls(lons, list(zip(lons, lats, phis, cosines, [p[0] for p in located], strict=True)), lons_np, lats_np)

    def within_many(self, lo: int, hi: int, lon: float, lat: float, radius_m: float) -> list[tuple[int, float]]:
        """(position, metres) of the points of ``lo:hi`` within ``radius_m`` of (lon, lat), by numpy."""
        dist = haversine_many(lon, lat, self.lons_np[lo:hi], self.lats_np[lo:hi]).tolist()
        points = self.points
        return [(points[lo + k][4], d) for k, d in enumerate(dist) if d <= radius_m]


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
        bands = {key: Band.of(points) for key, points in by_band.items()}
        positions = np.array(shape_at, dtype=np.intp)
        shapes = STRtree(geoms[positions]) if shape_at else None
        return cls([i for i, _ in pairs], geoms, bands, shapes, positions)

    def _keys(self, south: float, north: float) -> Iterable[int]:
        """Keys of the bands a box from ``south`` to ``north`` may meet."""
        low, high = _band(south), _band(north)
        if high - low >= len(self.bands):  # a huge box: visit occupied bands instead
            return [k for k in self.bands if low <= k <= high]
        return range(low, high + 1)

    def _points_in(self, west: float, south: float, east: float, north: float) -> list[int]:
        """Positions of the points inside the box, boundary included (as ``intersects`` counts it)."""
        low, high = _band(south), _band(north)
        bands = self.bands
        found: list[int] = []
        for key in self._keys(south, north):
            band = bands.get(key)
            if band is None:
                continue
            points = band.points[bisect_left(band.lons, west):bisect_right(band.lons, east)]
            if low < key < high:  # an inner band lies wholly inside the box
                found += [p[4] for p in points]
            else:
                found += [p[4] for p in points if south <= p[1] <= north]
        return found

    def _shapes_near(self, area: BaseGeometry, predicate: str | None = None) -> list[int]:
        """Positions of non-point geometries meeting ``area`` (by envelope without ``predicate``)."""
        if self.shapes is None:
            return []
        return self.shape_at[self.shapes.query(area, predicate=predicate)].tolist()

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[str]:
        """Ids of geometries intersecting the box, in index order."""
        found = self._points_in(west, south, east, north)
        if self.shapes is not None:
            found += self._shapes_near(shapely.box(west, south, east, north), "intersects")
        found.sort()
        ids = self.ids
        return [ids[i] for i in found]

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``radius_m`` of the point, nearest first.

        The inner loop is ``haversine_m`` unrolled over each point's precomputed half (same
        operations in the same order, so the same metres to the last bit) without a call per point;
        points outside the latitudes of the circle's box are skipped unmeasured.
        """
        box = west, south, east, north = degree_box(lon, lat, radius_m)
        p1 = math.radians(lat)
        cos_p1 = math.cos(p1)
        bands = self.bands
        found: list[tuple[int, float]] = []
        for key in self._keys(south, north):
            band = bands.get(key)
            if band is None:
                continue
            lo, hi = bisect_left(band.lons, west), bisect_right(band.lons, east)
            if hi - lo > VECTOR_FROM:
                found += band.within_many(lo, hi, lon, lat, radius_m)
                continue
            for lon2, lat2, phi2, cos2, at in band.points[lo:hi]:
                if south <= lat2 <= north:
                    h = sin((phi2 - p1) / 2) ** 2 + cos_p1 * cos2 * sin((lon2 - lon) * _RAD / 2) ** 2
                    d = _DIAMETER_M * asin(sqrt(h) if h < 1.0 else 1.0)
                    if d <= radius_m:
                        found.append((at, d))
        if self.shapes is not None:
            geoms = self.geoms
            near = ((i, distance_m(geoms[i], lon, lat)) for i in self._shapes_near(shapely.box(*box)))
            found += [(i, d) for i, d in near if d <= radius_m]
        found.sort(key=_second)
        ids = self.ids
        return [(ids[i], d) for i, d in found]

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
        candidates = self._points_in(*area.bounds) + self._shapes_near(area)
        hits = []
        for i in candidates:
            d = distance_between_m(self.geoms[i], line)
            if d <= within_m:
                hits.append((self.ids[i], d))
        hits.sort(key=_second)
        return hits
