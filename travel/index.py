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
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from travel.spatial import degree_box, distance_between_m, distance_m, haversine_many, metres_to_degrees

MAX_SEARCH_M = 3_000_000.0


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """STRtree over geometries; ``ids[i]`` is the record id of ``geoms[i]``."""

    tree: STRtree
    ids: NDArray[np.object_]
    geoms: NDArray[np.object_]
    is_point: NDArray[np.bool_]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]

    @classmethod
    def build(cls, items: Iterable[tuple[str, BaseGeometry]]) -> GeoIndex:
        """Index (id, geometry) pairs."""
        pairs = list(items)
        geoms = np.array([g for _, g in pairs], dtype=object)
        ids = np.array([i for i, _ in pairs], dtype=object)
        is_point = np.array([isinstance(g, Point) for g in geoms], dtype=bool)
        lons = np.array([g.x if p else math.nan for g, p in zip(geoms, is_point, strict=True)], dtype=float)
        lats = np.array([g.y if p else math.nan for g, p in zip(geoms, is_point, strict=True)], dtype=float)
        return cls(STRtree(geoms), ids, geoms, is_point, lons, lats)

    def __len__(self) -> int:
        return len(self.ids)

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[str]:
        """Ids of geometries intersecting the box."""
        idx = self.tree.query(box(west, south, east, north), predicate="intersects")
        return list(self.ids.take(np.sort(idx)))

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``radius_m`` of the point, nearest first."""
        candidates = self.tree.query(box(*degree_box(lon, lat, radius_m)))
        if len(candidates) == 0:
            return []
        dist = np.empty(len(candidates), dtype=float)
        points = self.is_point[candidates]
        if points.any():
            pc = candidates[points]
            dist[points] = haversine_many(lon, lat, self.lons[pc], self.lats[pc])
        for j in np.flatnonzero(~points):
            dist[j] = distance_m(self.geoms[candidates[j]], lon, lat)
        keep = dist <= radius_m
        order = np.argsort(dist[keep], kind="stable")
        chosen, chosen_dist = candidates[keep][order], dist[keep][order]
        return list(zip(self.ids.take(chosen), chosen_dist.tolist(), strict=True))

    def nearest(self, lon: float, lat: float, k: int, max_m: float | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest (id, metres), searching outwards until certain."""
        limit = min(max_m if max_m is not None else MAX_SEARCH_M, MAX_SEARCH_M)
        radius = min(5_000.0, limit)
        while True:
            found = self.within(lon, lat, radius)
            if len(found) >= k or radius >= limit:
                return found[:k]
            radius = min(radius * 4, limit)

    def along(self, line: LineString, distance_m: float) -> list[tuple[str, float]]:
        """(id, metres) within ``distance_m`` of a lon/lat line, nearest first."""
        centre = line.centroid
        pad = metres_to_degrees(distance_m, centre.y)
        candidates = self.tree.query(shapely.buffer(line, pad))
        hits = []
        for i in candidates:
            d = distance_between_m(self.geoms[i], line)
            if d <= distance_m:
                hits.append((self.ids[i], d))
        hits.sort(key=lambda h: h[1])
        return hits
