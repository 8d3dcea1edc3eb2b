"""An immutable geo index over one kind's records: STRtree plus parallel arrays, rebuilt and swapped.

Readers never see a half-built tree: a change builds a new ``GeoIndex`` and replaces one reference.
Candidates come from the tree in degrees; distances are then measured in metres (``travel.spatial``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """STRtree over geometries; ``ids[i]`` is the record id of ``geoms[i]``.

    ``points[i]`` holds (lon, lat) for point geometries so that the common case (POIs, events)
    measures distances in plain floats: for the handful of candidates a query has, per-call numpy
    overhead would cost more than the arithmetic.
    """

    tree: STRtree
    ids: list[str]
    geoms: NDArray[np.object_]
    points: list[tuple[float, float] | None]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]

    @classmethod
    def build(cls, items: Iterable[tuple[str, BaseGeometry]]) -> GeoIndex:
        """Index (id, geometry) pairs."""
        pairs = list(items)
        geoms = np.array([g for _, g in pairs], dtype=object)
        points = [(g.x, g.y) if isinstance(g, Point) else None for _, g in pairs]
        lons = np.array([p[0] if p else math.nan for p in points], dtype=float)
        lats = np.array([p[1] if p else math.nan for p in points], dtype=float)
        return cls(STRtree(geoms), [i for i, _ in pairs], geoms, points, lons, lats)

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[str]:
        """Ids of geometries intersecting the box, in index order."""
        idx = self.tree.query(shapely.box(west, south, east, north), predicate="intersects")
        ids = self.ids
        return [ids[i] for i in sorted(idx.tolist())]

    def _distance(self, i: int, lon: float, lat: float) -> float:
        point = self.points[i]
        return haversine_m(lon, lat, *point) if point else distance_m(self.geoms[i], lon, lat)

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``radius_m`` of the point, nearest first."""
        candidates = self.tree.query(shapely.box(*degree_box(lon, lat, radius_m)))
        if len(candidates) > VECTOR_FROM:
            dist = haversine_many(lon, lat, self.lons[candidates], self.lats[candidates])
            pairs = list(zip(candidates.tolist(), dist.tolist(), strict=True))
            pairs = [(i, d if not math.isnan(d) else self._distance(i, lon, lat)) for i, d in pairs]
        else:
            pairs = [(i, self._distance(i, lon, lat)) for i in candidates.tolist()]
        ids = self.ids
        hits = [(ids[i], d) for i, d in pairs if d <= radius_m]
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
        pad = metres_to_degrees(within_m, centre.y)
        candidates = self.tree.query(shapely.buffer(line, pad))
        hits = []
        for i in candidates:
            d = distance_between_m(self.geoms[i], line)
            if d <= within_m:
                hits.append((self.ids[i], d))
        hits.sort(key=_second)
        return hits


def _second(pair: tuple[str, float]) -> float:
    return pair[1]
