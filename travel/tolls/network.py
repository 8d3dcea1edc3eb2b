"""The charged network: toll stations placed on expressway nodes, and the path a quote prices.

A closed expressway system charges for the sections driven between the entry and the exit station.
Which sections those are is the route planner's choice for the vehicle (``PathChooser``, implemented
by ``travel.routing.stations``), so a quote prices the route the planner would recommend, live
closures included. This module only places stations and measures the charged sections.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from travel.core.records import OpenStatus, Poi, PoiKind, RoadClass, RoadSection
from travel.core.roadgraph import node_index, section_length_m
from travel.core.spatial import haversine_many
from travel.core.vehicle_classes import VehicleClass

STATION_SNAP_M = 2000.0  # a station further than this from every expressway node is not on the network


@dataclass(frozen=True, slots=True, kw_only=True)
class Station:
    """A toll station placed on a node of the charged network (``node_id``: the node's name)."""

    id: str
    name: str
    road: str | None
    lon: float
    lat: float
    admin_code: str | None
    node_id: str
    closed: bool


@dataclass(frozen=True, slots=True)
class TollPath:
    """Tolled sections driven in one trip (entered, then left), in order, with the metres driven on each."""

    sections: tuple[str, ...]
    lengths_m: tuple[float, ...]

    @property
    def length_m(self) -> float:
        """Total length driven."""
        return sum(self.lengths_m)


@dataclass(frozen=True, slots=True)
class DrivenPath:
    """The route driven from an entry station to an exit: every section in driving order, and its toll trips.

    ``trips`` has one path per stretch on toll roads; more than one means the route leaves the toll
    network on the way (a closure, or a faster free road), none that it never uses a toll road.
    """

    sections: tuple[tuple[str, bool], ...]  # (section id, driven from→to)
    length_m: float
    trips: tuple[TollPath, ...]


class PathChooser(Protocol):
    """Chooses the route between two stations as the route planner would for a vehicle class."""

    @property
    def state(self) -> Hashable:
        """Changes whenever a choice could change (network rebuilt, closures, slow-downs, restrictions)."""
        ...

    def between(self, entry: Station, exit_: Station, vehicle_class: VehicleClass) -> DrivenPath | None:
        """The route from ``entry`` to ``exit_`` for the class, or None when the exit cannot be reached."""
        ...


class ChargedNetwork:
    """Expressway sections with their charging lengths, and the toll stations placed on their nodes."""

    def __init__(self, sections: Iterable[RoadSection], pois: Iterable[Poi]) -> None:
        expressways = [s for s in sections if s.road_class is RoadClass.EXPRESSWAY]
        nodes = node_index(expressways)
        self.node_ids, self.lon, self.lat = nodes.ids, nodes.lon, nodes.lat
        self.section_lengths = {s.id: section_length_m(s) for s in expressways}
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
                stations.append(Station(id=poi.id, name=poi.name, road=poi.road, lon=x, lat=y,
                                        admin_code=poi.admin_code, node_id=self.node_ids[node],
                                        closed=poi.open_status is OpenStatus.CLOSED))
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
