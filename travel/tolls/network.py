"""The charged network: expressway sections as a graph, toll stations on its nodes, shortest toll paths.

A closed expressway system charges for the path between the entry and the exit station. Until the
route planner chooses that path, it is the shortest one over expressway sections (distance by stakes,
the charging length). Paths from one entry are computed once (a single-source Dijkstra in C via
scipy) and reused for every exit and vehicle class.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from travel.models import OpenStatus, Poi, PoiKind, RoadClass, RoadSection
from travel.roadgraph import node_index, section_length_m
from travel.spatial import haversine_many

STATION_SNAP_M = 2000.0  # a station further than this from every expressway node is not on the network
SOURCE_CACHE = 512  # entries whose shortest-path trees are kept


@dataclass(frozen=True, slots=True)
class Station:
    """A toll station placed on a node of the charged network."""

    id: str
    name: str
    road: str | None
    lon: float
    lat: float
    admin_code: str | None
    node: int
    closed: bool


@dataclass(frozen=True, slots=True)
class TollPath:
    """The sections driven between two stations, in order, with their lengths."""

    sections: tuple[str, ...]
    lengths_m: tuple[float, ...]

    @property
    def length_m(self) -> float:
        """Total length driven."""
        return sum(self.lengths_m)


class ChargedNetwork:
    """Expressway sections as a directed graph (both ways unless one-way) with a station index."""

    def __init__(self, sections: Iterable[RoadSection], pois: Iterable[Poi]) -> None:
        expressways = [s for s in sections if s.road_class is RoadClass.EXPRESSWAY]
        nodes = node_index(expressways)
        self.lon, self.lat = nodes.lon, nodes.lat
        self.section_ids = [s.id for s in expressways]
        self.section_lengths = {s.id: section_length_m(s) for s in expressways}
        best: dict[tuple[int, int], tuple[float, int]] = {}  # the shortest section between two nodes
        for index, section in enumerate(expressways):
            length = self.section_lengths[section.id]
            a, b = (int(v) for v in nodes.ends[index])
            for arc in ((a, b),) if section.oneway else ((a, b), (b, a)):
                if a != b and (arc not in best or length < best[arc][0]):
                    best[arc] = (length, index)
        n = len(nodes.ids)
        arcs = list(best)
        rows = np.fromiter((a[0] for a in arcs), dtype=np.int32, count=len(arcs))
        cols = np.fromiter((a[1] for a in arcs), dtype=np.int32, count=len(arcs))
        self._graph = csr_matrix(([best[a][0] for a in arcs], (rows, cols)), shape=(n, n))
        self._arc_section = {a: best[a][1] for a in arcs}
        self._trees: OrderedDict[int, NDArray[np.int32]] = OrderedDict()
        self.stations = self._place_stations(pois)
        self.by_id = {s.id: s for s in self.stations}

    def _place_stations(self, pois: Iterable[Poi]) -> list[Station]:
        stations = []
        for poi in pois:
            if poi.poi_kind is not PoiKind.TOLL_STATION or poi.geometry is None or not len(self.lon):
                continue
            x, y = poi.geometry.coordinates
            distances = haversine_many(x, y, self.lon, self.lat)
            node = int(np.argmin(distances))
            if distances[node] <= STATION_SNAP_M:
                stations.append(Station(poi.id, poi.name, poi.road, x, y, poi.admin_code, node,
                                        poi.open_status is OpenStatus.CLOSED))
        return stations

    def nearest_stations(self, lon: float, lat: float, within_m: float, limit: int) -> list[tuple[Station, float]]:
        """Stations within ``within_m`` of a point, nearest first, with their distances."""
        if not self.stations:
            return []
        lons = np.fromiter((s.lon for s in self.stations), dtype=np.float64, count=len(self.stations))
        lats = np.fromiter((s.lat for s in self.stations), dtype=np.float64, count=len(self.stations))
        distances = haversine_many(lon, lat, lons, lats)
        order = np.argsort(distances, kind="stable")
        found = [(self.stations[i], float(distances[i])) for i in order[:limit] if distances[i] <= within_m]
        return found or [(self.stations[int(order[0])], float(distances[order[0]]))]

    def _tree(self, source: int) -> NDArray[np.int32]:
        """Predecessors of the shortest-path tree from ``source`` (cached, least recently used dropped)."""
        tree = self._trees.get(source)
        if tree is None:
            _, tree = dijkstra(self._graph, indices=source, return_predecessors=True)
            self._trees[source] = tree
            if len(self._trees) > SOURCE_CACHE:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(source)
        return tree

    def drop_trees(self) -> None:
        """Forget every cached shortest-path tree (the benchmark times cold quotes with it)."""
        self._trees.clear()

    def path(self, entry: Station, exit_: Station) -> TollPath | None:
        """The shortest path from one station to another; None when the exit cannot be reached."""
        tree = self._tree(entry.node)
        node, steps = exit_.node, []
        while node != entry.node:
            before = int(tree[node])
            if before < 0:
                return None
            steps.append(self.section_ids[self._arc_section[(before, node)]])
            node = before
        steps.reverse()
        return TollPath(tuple(steps), tuple(self.section_lengths[s] for s in steps))
