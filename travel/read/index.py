"""An immutable geo index over one kind's records: banded points, an STRtree for the rest, rebuilt and swapped.

Readers never see a half-built index: a change builds a new ``GeoIndex`` and replaces one reference.
Candidates are found in degrees; distances are then measured in metres (``travel.core.spatial``).

Most records are points (POIs, most events). They are kept in latitude bands, each sorted by
longitude, so a box query is two bisections per band and a slice, and a radius query measures only
that slice; both run as one compiled call (``travel.read.index_kernels``), about a microsecond, where an
STRtree query costs a shapely box, numpy calls and array conversions, and the same loop in Python a
few hundred nanoseconds per point. Lines and polygons stay in an STRtree, only queried when there
are any.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from travel.core.spatial import degree_box, distance_between_m, distance_m, metres_to_degrees
from travel.read import index_kernels

MAX_SEARCH_M = 3_000_000.0
BAND_DEG = 0.1  # latitude band height: a 10 km query reads 2–3 bands
_second = itemgetter(1)  # the metres of an (id, metres) pair


@dataclass(frozen=True, slots=True)
class PointLayout:
    """The index's points in band order, each band sorted by longitude: the kernels' columns.

    Band ``first_band + k`` holds rows ``starts[k]:starts[k + 1]``; ``halves`` holds each point's
    latitude in radians and its cosine, the per-point half of the haversine formula, computed once
    (by ``math``, as ``haversine_m`` computes them); ``at`` maps a row to its index position.
    """

    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    halves: NDArray[np.float64]
    starts: NDArray[np.int64]
    first_band: int
    at: list[int]

    @classmethod
    def of(cls, positions: list[int], lons: list[float], lats: list[float]) -> PointLayout:
        """The layout of points given as columns (index position, lon, lat)."""
        lon_np, lat_np = np.array(lons, dtype=float), np.array(lats, dtype=float)
        bands = np.floor(lat_np / BAND_DEG).astype(np.int64)  # math.floor(lat / BAND_DEG), exactly
        order = np.lexsort((lon_np, bands))
        bands = bands[order]
        first = int(bands[0]) if len(bands) else 0
        last = int(bands[-1]) if len(bands) else -1
        starts = np.searchsorted(bands, np.arange(first, last + 2), "left").astype(np.int64)
        lats_sorted = lat_np[order]
        phis = [math.radians(y) for y in lats_sorted.tolist()]
        halves = np.array([phis, [math.cos(p) for p in phis]], dtype=float).reshape(2, len(phis))
        at = np.array(positions, dtype=np.int64)[order].tolist()
        return cls(np.ascontiguousarray(lon_np[order]), np.ascontiguousarray(lats_sorted), halves, starts, first, at)

    def in_box(self, west: float, south: float, east: float, north: float) -> list[int]:
        """Index positions of the points inside the box, boundary included, in layout order."""
        rows = index_kernels.in_box(self.lons, self.lats, self.starts, self.first_band, BAND_DEG,
                                    west, south, east, north)
        return list(map(self.at.__getitem__, rows.tolist()))

    def within(self, lon: float, lat: float, radius_m: float) -> tuple[list[int], list[float]]:
        """Layout rows and metres of the points within ``radius_m`` of (lon, lat), nearest first."""
        rows, metres = index_kernels.within(self.lons, self.lats, self.halves, self.starts, self.first_band,
                                            BAND_DEG, lon, lat, radius_m)
        return rows.tolist(), metres.tolist()


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """Record ids and geometries by position; points in ``points``, other geometries in ``shapes``.

    ``shape_at[j]`` is the position of the ``j``-th geometry of the ``shapes`` tree; ``point_ids[r]``
    the id of the point in layout row ``r``, so a radius query maps rows to ids in one step.
    """

    ids: list[str]
    geoms: NDArray[np.object_]
    points: PointLayout
    shapes: STRtree | None
    shape_at: NDArray[np.intp]
    point_ids: list[str]

    @classmethod
    def build(cls, items: Iterable[tuple[str, BaseGeometry]]) -> GeoIndex:
        """Index (id, geometry) pairs."""
        pairs = list(items)
        geoms = np.array([g for _, g in pairs], dtype=object)
        at: list[int] = []
        lons: list[float] = []
        lats: list[float] = []
        shape_at = []
        for i, (_, g) in enumerate(pairs):
            if isinstance(g, Point) and not g.is_empty:
                at.append(i)
                lons.append(g.x)
                lats.append(g.y)
            else:
                shape_at.append(i)
        positions = np.array(shape_at, dtype=np.intp)
        shapes = STRtree(geoms[positions]) if shape_at else None
        ids = [i for i, _ in pairs]
        points = PointLayout.of(at, lons, lats)
        return cls(ids, geoms, points, shapes, positions, [ids[p] for p in points.at])

    def _shapes_near(self, area: BaseGeometry, predicate: str | None = None) -> list[int]:
        """Positions of non-point geometries meeting ``area`` (by envelope without ``predicate``)."""
        if self.shapes is None:
            return []
        return self.shape_at[self.shapes.query(area, predicate=predicate)].tolist()

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[str]:
        """Ids of geometries intersecting the box, in index order."""
        found = self.points.in_box(west, south, east, north)
        if self.shapes is not None:
            found += self._shapes_near(shapely.box(west, south, east, north), "intersects")
        found.sort()
        ids = self.ids
        return list(map(ids.__getitem__, found))

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``radius_m`` of the point, nearest first."""
        return list(zip(*self.columns_within(lon, lat, radius_m), strict=True))

    def columns_within(self, lon: float, lat: float, radius_m: float) -> tuple[list[str], list[float]]:
        """``within`` as two columns, ids and metres (what a list request serves from)."""
        rows, metres = self.points.within(lon, lat, radius_m)
        point_ids = self.point_ids
        ids = list(map(point_ids.__getitem__, rows))
        if self.shapes is None:
            return ids, metres
        shapes = self._shapes_within(lon, lat, radius_m)
        if not shapes:
            return ids, metres
        found = [*zip(ids, metres, strict=True), *shapes]
        found.sort(key=_second)  # stable: points (already in order) before shapes at equal metres
        return [i for i, _ in found], [d for _, d in found]

    def _shapes_within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) of the non-point geometries within ``radius_m``, in index order.

        Apart from ``columns_within``: a comprehension's variables are cells, made on every call of the
        function holding it (Python 3.11), and most indexes hold only points.
        """
        geoms, ids = self.geoms, self.ids
        candidates = self._shapes_near(shapely.box(*degree_box(lon, lat, radius_m)))
        near = ((i, distance_m(geoms[i], lon, lat)) for i in candidates)
        return [(ids[i], d) for i, d in near if d <= radius_m]

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
        candidates = self.points.in_box(*area.bounds) + self._shapes_near(area)
        hits = []
        for i in candidates:
            d = distance_between_m(self.geoms[i], line)
            if d <= within_m:
                hits.append((self.ids[i], d))
        hits.sort(key=_second)
        return hits
