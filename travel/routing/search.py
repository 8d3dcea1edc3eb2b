"""The search: from the places a traveller names to the engine's routes between them.

The engine knows nodes; a traveller names places, and a place lies part-way along a section. So a
request becomes a ``Journey``: each place resolved and snapped to its section, and each leg's ways
off and onto those sections as the engine's seeds, priced by the part of the section driven. That
part obeys what the rest of the route obeys — one-way, closures, the vehicle's limits, and turn bans
into and out of it (the seed names its section) — while a point exactly at a junction simply stands
there. Two consecutive points on one section are joined straight along it when that way is open.
Legs between via points are searched one by one and joined; alternatives are sought only for a
route without via points. Unless tolls are avoided (and always for ``cheapest``), sections carry
their toll for the class in the tariff period of departure.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from travel.core.crs import Crs
from travel.core.errors import TravelError
from travel.core.records import Kind, Payment, Poi, PoiKind, TollPolicy
from travel.core.vehicle_classes import VehicleClass
from travel.read.places import Candidate, PlaceKind, PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.alternatives import alternatives
from travel.routing.engine import Route, RouteEngine, Seed, joined
from travel.routing.network import RoadNetwork, Snapped, Unroutable
from travel.routing.profiles import Metric, VehicleProfile
from travel.routing.vehicles import profile_for
from travel.tolls.book import TollBooks
from travel.tolls.tariff import NotPriced

MAX_VIA = 5
MAX_ALTERNATIVES = 3
SNAP_M = 10_000.0  # a point further than this from every road cannot start or end a route
DIRECT = -1  # Route.source/target of a leg driven straight along one section, from one point to the next


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRequest:
    """A validated route request."""

    origin: str
    destination: str
    vehicle_class: VehicleClass
    depart_at: datetime
    via: tuple[str, ...] = ()
    optimize: Metric = Metric.FASTEST
    avoid_tolls: bool = False
    avoid_expressways: bool = False
    alternatives: int = 0
    payment: Payment = "etc"
    seats: int | None = None
    declared: frozenset[TollPolicy] = frozenset()
    height_m: float | None = None
    total_mass_t: float | None = None
    axle_load_t: float | None = None
    crs: Crs = Crs.WGS84


@dataclass(frozen=True, slots=True, kw_only=True)
class Waypoint:
    """A place as resolved, where the route takes it to be, and where that lies on a section."""

    query: str
    place: Candidate
    snapped: Snapped
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class SeedWay:
    """One way between a snapped point and an end of its section: the engine's seed, what it costs, its direction."""

    seed: Seed
    metres: float
    seconds: float
    forward: bool


Legs = list[tuple[list[SeedWay], list[SeedWay]]]  # per leg: the ways out of its start, the ways into its end
Found = tuple[Route, list[int], list[int]]  # a route, and per leg the index of its source and target seed way


@dataclass(frozen=True, slots=True, kw_only=True)
class Journey:
    """A request made ready to search: its places on the network, the vehicle, the engine's options, the legs."""

    network: RoadNetwork
    request: RouteRequest
    places: list[Waypoint]
    profile: VehicleProfile
    options: dict[str, Any]
    legs: Legs


class Search:
    """Resolves, snaps and searches; remembers bus stations by city and section tolls by class and period."""

    def __init__(self, model: ReadModel, places: PlaceResolver, books: TollBooks) -> None:
        self.model, self.places, self.books = model, places, books
        self._bus_stations: tuple[int, dict[str, tuple[float, float]]] = (-1, {})  # (POI generation, by admin code)
        self._toll_costs: dict[tuple, np.ndarray] = {}
        self._costs_of: weakref.ref[RoadNetwork] | None = None  # the network the toll costs are for

    def journey(self, network: RoadNetwork, request: RouteRequest) -> Journey:
        """The request's places resolved and snapped, and the ways each leg may start and end."""
        if len(request.via) > MAX_VIA:
            raise TravelError(f"at most {MAX_VIA} via points", param="via")
        places = [self._waypoint(network, request.origin, request.crs, "from"),
                  *(self._waypoint(network, v, request.crs, "via") for v in request.via),
                  self._waypoint(network, request.destination, request.crs, "to")]
        if places[0].place.id == places[-1].place.id and not request.via:
            raise Unroutable("from and to are the same place", param="to")
        profile = profile_for(request.vehicle_class, request.height_m, request.total_mass_t, request.axle_load_t)
        options: dict[str, Any] = {"avoid_tolls": request.avoid_tolls,
                                   "avoid_expressways": request.avoid_expressways}
        if request.optimize is Metric.CHEAPEST or not request.avoid_tolls:
            options["toll_cost"] = self._toll_cost(network, request.vehicle_class, request.depart_at)
        return Journey(network=network, request=request, places=places, profile=profile, options=options,
                       legs=legs_seeds(network.engine, places, request.optimize, profile, options.get("toll_cost")))

    def routes(self, journey: Journey) -> list[Found]:
        """The routes found (the best first), each with the seed ways it left and reached each place by."""
        request, legs, places = journey.request, journey.legs, journey.places
        found_legs: list[list[Route]] = []
        for k, ways in enumerate(legs):
            wanted = 1 + request.alternatives if len(legs) == 1 else 1
            found = leg_routes(journey.network.engine, places[k].snapped, places[k + 1].snapped, ways, wanted,
                               request.optimize, journey.profile, journey.options)
            if not found:
                return []
            found_legs.append(found)
        if len(found_legs) == 1:
            return [(r, [r.source], [r.target]) for r in found_legs[0]]
        whole = joined([leg[0] for leg in found_legs])
        return [(whole, [leg[0].source for leg in found_legs], [leg[0].target for leg in found_legs])]

    def _waypoint(self, network: RoadNetwork, query: str, crs: Crs, param: str) -> Waypoint:
        """Resolve and snap one place."""
        found = self.places.resolve(query, limit=1, crs=crs)
        if not found:
            raise Unroutable(f"{param}: no place matches {query!r}", param=param)
        place = found[0]
        if place.kind in (PlaceKind.ROAD, PlaceKind.PROVINCE):
            raise Unroutable(f"{param}: {place.name} is not a point to start or end at; name a place or lon,lat",
                             param=param)
        lon, lat = self._centre(place)
        try:
            snapped = network.snap(lon, lat, SNAP_M)
        except Unroutable as err:
            raise Unroutable(f"{param}: {err.detail}", param=param) from None
        return Waypoint(query=query, place=place, snapped=snapped, lon=lon, lat=lat)

    def _centre(self, place: Candidate) -> tuple[float, float]:
        """Where a route to a place starts: a city's main bus station (its centre), else the place's point."""
        if place.kind is PlaceKind.CITY:
            pois = self.model.view(Kind.POI)
            if self._bus_stations[0] != pois.generation:
                self._bus_stations = (pois.generation, {
                    poi.admin_code: (poi.geometry.coordinates[0], poi.geometry.coordinates[1])
                    for poi in pois.records.values()
                    if isinstance(poi, Poi) and poi.poi_kind is PoiKind.BUS_STATION and poi.admin_code
                    and poi.geometry is not None})
            found = self._bus_stations[1].get(place.id)
            if found is not None:
                return found
        return place.lon, place.lat

    def _toll_cost(self, network: RoadNetwork, cls: VehicleClass, at: datetime) -> np.ndarray:
        """Fen per section for a class: length × the rate of the toll section it is in (0 if untolled)."""
        if self._costs_of is None or self._costs_of() is not network:
            self._toll_costs.clear()
            self._costs_of = weakref.ref(network)
        book = self.books.current()
        key = (id(book.tariff), cls.code, book.tariff.period(at))
        cost = self._toll_costs.get(key)
        if cost is None:
            cost = np.zeros(len(network.records))
            for i, record in enumerate(network.records):
                section = book.tariff.of_road_section.get(record.id)
                if section is not None and record.toll:
                    try:
                        rate = book.tariff.rate_at(section, cls, at)
                    except NotPriced:
                        continue
                    cost[i] = network.length_m[i] / 1000 * rate.fen_per_km
            self._toll_costs[key] = cost
        return cost


def seed_ways(engine: RouteEngine, snapped: Snapped, metric: Metric, profile: VehicleProfile,
              toll_cost: np.ndarray | None, leaving: bool) -> list[SeedWay]:
    """The ways between a point and the ends of its section: standing at an end it is on, or driving there.

    Driving part of the section is allowed as driving all of it would be (one-way, closure, the
    vehicle's limits) and costs that share of it; the seed names the section so the search holds
    turn bans off it (leaving) or into it (arriving).
    """
    i, f = snapped.section, snapped.fraction
    weight, seconds = (float(x[0]) for x in engine.section_weights(np.array([i]), metric, profile, toll_cost))
    length = float(engine.sections.length_m[i])
    a, b = int(engine.sections.section_from[i]), int(engine.sections.section_to[i])
    # leaving: on to b (from→to) or back to a (to→from); arriving: from a (from→to) or from b (to→from)
    ways = []
    for forward, share in ((True, 1 - f if leaving else f), (False, f if leaving else 1 - f)):
        node = (b if forward else a) if leaving else (a if forward else b)
        if share == 0:
            ways.append(SeedWay((node, 0.0), 0.0, 0.0, forward))
        elif drivable(engine, i, forward, profile):
            ways.append(SeedWay((node, weight * share, i, forward), length * share, seconds * share, forward))
    return ways


def drivable(engine: RouteEngine, section: int, forward: bool, profile: VehicleProfile) -> bool:
    """Whether the vehicle may drive the section that way now (one-way, closure, its limits)."""
    return not ((not forward and engine.sections.oneway[section]) or engine.closed[section] & (1 if forward else 2)
                or engine.masks.get(profile, False, False)[section])


def direct_route(engine: RouteEngine, here: Snapped, there: Snapped, metric: Metric, profile: VehicleProfile,
                 toll_cost: np.ndarray | None) -> Route | None:
    """The leg straight along the section both points lie on, when that way is open; else None.

    Like the engine's routes, its totals cover whole sections (none here).
    """
    if here.section != there.section:
        return None
    share = there.fraction - here.fraction
    if share != 0 and not drivable(engine, here.section, share > 0, profile):
        return None
    weight = float(engine.section_weights(np.array([here.section]), metric, profile, toll_cost)[0][0]) * abs(share)
    empty = np.zeros(0, np.int32)
    return Route(weight=weight, cost=0.0 if metric is Metric.CHEAPEST else weight, length_m=0.0, time_s=0.0,
                 toll=0.0, sections=empty, forward=np.zeros(0, bool), nodes=empty, source=DIRECT, target=DIRECT)


def leg_routes(engine: RouteEngine, here: Snapped, there: Snapped, ways: tuple[list[SeedWay], list[SeedWay]],
               wanted: int, metric: Metric, profile: VehicleProfile, options: dict[str, Any]) -> list[Route]:
    """One leg's routes, the best first: straight along a shared section when that is best, else the engine's.

    The straight stretch is not always best: points at a section's two ends may be joined better by
    another road between those nodes, which the engine finds from the points standing at them.
    """
    out, into = ways
    found = alternatives(engine, [w.seed for w in out], [w.seed for w in into], wanted, metric, profile,
                         **options) if out and into else []
    direct = direct_route(engine, here, there, metric, profile, options.get("toll_cost"))
    if direct is not None and (not found or direct.weight <= found[0].weight):
        return [direct]
    return found


def legs_seeds(engine: RouteEngine, places: list[Waypoint], metric: Metric, profile: VehicleProfile,
               toll_cost: np.ndarray | None) -> Legs:
    """Per leg: the ways out of its start and the ways into its end (a via point has both)."""
    return [(seed_ways(engine, here.snapped, metric, profile, toll_cost, leaving=True),
             seed_ways(engine, there.snapped, metric, profile, toll_cost, leaving=False))
            for here, there in zip(places, places[1:], strict=False)]
