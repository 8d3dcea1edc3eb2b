"""Routes between toll stations as the route planner drives them, for toll quotes (a ``PathChooser``).

A quote must price what the driver will pay, and the driver follows the recommended route: the
fastest for the vehicle class with closures, slow-downs and traffic-control limits in force. So the
quote's path comes from the same engine and live state as ``GET /v1/routes``, not from a search of
its own. A driver who entered at one station means to leave at the other, so the search stays on
toll roads unless a closure or restriction forces it off (free roads weigh ``OFF_TOLL_PENALTY``
times their time); a route that does leave is charged as several trips.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from travel.core.vehicle_classes import VehicleClass
from travel.routing.network import RoadNetwork
from travel.routing.profiles import Metric, VehicleProfile
from travel.routing.vehicles import profile_for
from travel.tolls.book import Lru
from travel.tolls.network import DrivenPath, Station, TollPath

ROUTE_CACHE = 20_000  # station pairs × vehicle profiles remembered per live state
OFF_TOLL_PENALTY = 20.0  # how much longer a toll-road route may take before leaving the toll roads is chosen


def toll_trips(network: RoadNetwork, sections: Sequence[int], metres: Sequence[float]) -> tuple[TollPath, ...]:
    """The stretches of consecutive toll sections along a route: each is entered once and left once."""
    runs: list[list[int]] = []
    tolled = network.base.toll[list(sections)].tolist()
    for k, toll in enumerate(tolled):
        if toll:
            if runs and runs[-1][-1] == k - 1:
                runs[-1].append(k)  # still on the toll road: the same trip
            else:
                runs.append([k])
    ids = network.ids
    return tuple(TollPath(tuple(ids[sections[k]] for k in run), tuple(metres[k] for k in run)) for run in runs)


class StationRoutes:
    """The fastest route on toll roads between two stations' nodes for a class, on one network in one live state.

    Made anew whenever the network is rebuilt or the live state changes (``state`` names which), so
    its cache never outlives a closure, a clearance or a new network.
    """

    def __init__(self, network: RoadNetwork, state: Hashable) -> None:
        self.network = network
        self._state = state
        self._routes: Lru[tuple[str, str, VehicleProfile], tuple[DrivenPath | None]] = Lru(ROUTE_CACHE)
        self._stay_on_toll_roads = np.where(network.base.toll, 1.0, OFF_TOLL_PENALTY)

    @property
    def state(self) -> Hashable:
        """The network build and live-state version these routes were chosen on."""
        return self._state

    def between(self, entry: Station, exit_: Station, vehicle_class: VehicleClass) -> DrivenPath | None:
        """The route from ``entry`` to ``exit_`` (None when closures or restrictions leave none)."""
        profile = profile_for(vehicle_class)
        key = (entry.node_id, exit_.node_id, profile)
        cached = self._routes.get(key)
        if cached is None:
            cached = self._routes.put(key, (self._route(entry, exit_, profile),))
        return cached[0]

    def _route(self, entry: Station, exit_: Station, profile: VehicleProfile) -> DrivenPath | None:
        network = self.network
        a, b = network.node_number.get(entry.node_id), network.node_number.get(exit_.node_id)
        if a is None or b is None:
            return None
        route = network.engine.route([(a, 0.0)], [(b, 0.0)], Metric.FASTEST, profile,
                                     penalty=self._stay_on_toll_roads)
        if route is None:
            return None
        sections = route.sections.tolist()
        metres = network.length_m[route.sections].tolist()
        ids = network.ids
        return DrivenPath(sections=tuple(zip([ids[i] for i in sections], route.forward.tolist(), strict=True)),
                          length_m=float(sum(metres)), trips=toll_trips(network, sections, metres))
