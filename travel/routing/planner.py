"""Route planning for the API: places become points on sections, engine routes become answers people read.

One ``Planner`` per read model. It rebuilds its ``RoadNetwork`` (in a worker thread, serving the old
one meanwhile) when the road sections change, and re-syncs the live state whenever the events
change, so a closure ingested on any process reaches every process's next query. Each route comes
with its toll (as a quote prices it), Chinese instructions by road code, direction and stake, and
the events, alerts and service areas along it.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point
from shapely.ops import substring

from travel.core.crs import Crs, from_wgs84
from travel.core.errors import TravelError
from travel.core.records import Alert, Kind, Payment, Poi, PoiKind, RoadEvent, RoadSection, TollPolicy
from travel.core.spatial import distance_between_m
from travel.core.stakes import format_stake, format_stake_range
from travel.core.vehicle_classes import VehicleClass
from travel.read.places import Candidate, PlaceKind, resolve
from travel.read.readmodel import ReadModel
from travel.routing.alternatives import alternatives
from travel.routing.engine import Route, Seed, joined
from travel.routing.network import LiveState, RoadNetwork, Snapped, Unroutable
from travel.routing.profiles import Metric, VehicleProfile
from travel.routing.stations import StationRoutes, toll_trips
from travel.routing.vehicles import profile_for
from travel.tolls.book import TollBook, toll_book
from travel.tolls.policies import Trip
from travel.tolls.quote import charged, trips_toll
from travel.tolls.tariff import NotPriced

MAX_VIA = 5
MAX_ALTERNATIVES = 3
SNAP_M = 10_000.0  # a point further than this from every road cannot start or end a route
NAME_NODE_M = 1_500.0  # a junction is named after the interchange or station this close to it
ALONG_M = 500.0  # service areas this close to the route are on it
ALERT_M = 1_000.0
CORRIDOR_M = 30_000.0  # closures this close to the route are named as avoided
FALLBACK_CANDIDATES = 6  # places near an unreachable destination tried as "nearest reachable"
COMPASS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A place as resolved, where the route takes it to be, and where that lies on a section."""

    query: str
    place: Candidate
    snapped: Snapped
    lon: float
    lat: float


@dataclass(slots=True)
class Planner:
    """The routing state of one read model."""

    model: ReadModel
    network: RoadNetwork | None = None
    live: LiveState | None = None
    built_for: int = -1
    events_seen: int = -1
    building: asyncio.Task[RoadNetwork] | None = None
    toll_costs: dict[tuple, np.ndarray] = field(default_factory=dict)
    bus_stations: tuple[int, dict[str, tuple[float, float]]] = (-1, {})  # (POI generation, by admin code)
    stations: StationRoutes | None = None

    async def current(self) -> RoadNetwork:
        """The network for the current road sections (waiting only for the first build), live state synced."""
        generation = self.model.view(Kind.ROAD_SECTION).generation
        if generation != self.built_for and self.building is None:
            sections = [r for r in self.model.view(Kind.ROAD_SECTION).records.values() if isinstance(r, RoadSection)]
            if not sections:
                raise Unroutable("the road network is empty; import it with travel import network")
            self.building = asyncio.create_task(asyncio.to_thread(RoadNetwork, sections))
            self.building.add_done_callback(lambda task, g=generation: self._adopt(task, g))
        if self.network is None:
            assert self.building is not None
            await asyncio.shield(self.building)
        assert self.network is not None and self.live is not None
        events = self.model.view(Kind.EVENT)
        if events.generation != self.events_seen:
            self.events_seen = events.generation
            self.live.sync((r for r in events.records.values() if isinstance(r, RoadEvent)), _now())
        return self.network

    def station_routes(self, network: RoadNetwork) -> StationRoutes:
        """Routes between toll stations on the current network in its current live state (for quotes)."""
        assert self.live is not None
        state = (self.built_for, self.live.version)
        if self.stations is None or self.stations.state != state:
            self.stations = StationRoutes(network, state)
        return self.stations

    def _adopt(self, task: asyncio.Task[RoadNetwork], generation: int) -> None:
        self.building = None
        if task.cancelled() or task.exception() is not None:
            return
        self.network, self.live = task.result(), LiveState(task.result())
        self.built_for, self.events_seen = generation, -1
        self.toll_costs.clear()

    # ------------------------------------------------------------------ places
    def waypoint(self, network: RoadNetwork, query: str, crs: Crs, param: str) -> Waypoint:
        """Resolve and snap one place."""
        found = resolve(self.model, query, limit=1, crs=crs)
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
        return Waypoint(query, place, snapped, lon, lat)

    def _centre(self, place: Candidate) -> tuple[float, float]:
        """Where a route to a place starts: a city's main bus station (its centre), else the place's point."""
        if place.kind is PlaceKind.CITY:
            pois = self.model.view(Kind.POI)
            if self.bus_stations[0] != pois.generation:
                self.bus_stations = (pois.generation, {
                    poi.admin_code: (poi.geometry.coordinates[0], poi.geometry.coordinates[1])
                    for poi in pois.records.values()
                    if isinstance(poi, Poi) and poi.poi_kind is PoiKind.BUS_STATION and poi.admin_code
                    and poi.geometry is not None})
            found = self.bus_stations[1].get(place.id)
            if found is not None:
                return found
        return place.lon, place.lat

    # ------------------------------------------------------------------ planning
    def plan(self, network: RoadNetwork, request: RouteRequest) -> dict[str, Any]:
        """Routes for ``request`` (the best first), as the API's JSON body."""
        if len(request.via) > MAX_VIA:
            raise TravelError(f"at most {MAX_VIA} via points", param="via")
        places = [self.waypoint(network, request.origin, request.crs, "from"),
                  *(self.waypoint(network, v, request.crs, "via") for v in request.via),
                  self.waypoint(network, request.destination, request.crs, "to")]
        if places[0].place.id == places[-1].place.id and not request.via:
            raise Unroutable("from and to are the same place", param="to")
        profile = profile_for(request.vehicle_class, request.height_m, request.total_mass_t, request.axle_load_t)
        options = self._options(network, request, profile)
        seeds = self._legs_seeds(network, places, request.optimize, profile)
        routes = self._search(network, seeds, request, profile, options)
        if not routes:
            raise self._why_unroutable(network, places, seeds, request, profile, options)
        book = toll_book(self.model)
        out = [self._describe(network, book, r, places, seeds, request, profile) for r in routes]
        body: dict[str, Any] = {
            "from": _place_out(places[0], request.crs), "to": _place_out(places[-1], request.crs),
            "via": [_place_out(w, request.crs) for w in places[1:-1]],
            "vehicle_class": {"code": request.vehicle_class.code, "name": request.vehicle_class.name,
                              "kind": request.vehicle_class.kind.value},
            "optimize": request.optimize.value, "depart_at": request.depart_at.isoformat(),
            "avoid": ["closures", *(["tolls"] if request.avoid_tolls else []),
                      *(["expressways"] if request.avoid_expressways else [])],
            "routes": out,
        }
        return body

    def _options(self, network: RoadNetwork, request: RouteRequest, profile: VehicleProfile) -> dict[str, Any]:
        options: dict[str, Any] = {"avoid_tolls": request.avoid_tolls, "avoid_expressways": request.avoid_expressways}
        if request.optimize is Metric.CHEAPEST or not request.avoid_tolls:
            options["toll_cost"] = self._toll_cost(network, request.vehicle_class, request.depart_at)
        return options

    def _toll_cost(self, network: RoadNetwork, cls: VehicleClass, at: datetime) -> np.ndarray:
        """Fen per section for a class: length × the rate of the toll section it is in (0 if untolled)."""
        book = toll_book(self.model)
        key = (id(book.tariff), cls.code, book.tariff.period(at))
        cost = self.toll_costs.get(key)
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
            self.toll_costs[key] = cost
        return cost

    def _seeds(self, network: RoadNetwork, w: Waypoint, metric: Metric, profile: VehicleProfile,
               leaving: bool) -> list[SeedWay]:
        """The ways between the point and the ends of its section that are open (one-way and closures allowed for)."""
        i, f = w.snapped.section, w.snapped.fraction
        length = float(network.length_m[i])
        speed = min(float(network.base.speed_kmh[i]), profile.max_speed_kmh)
        seconds = length * 3.6 / speed * float(network.engine.slowdown[i])
        weight = length if metric is Metric.SHORTEST else seconds
        a, b = int(network.base.section_from[i]), int(network.base.section_to[i])
        closed = int(network.engine.closed[i])
        # leaving: on to b (from→to) or back to a (to→from); arriving: from a (from→to) or from b (to→from)
        ways = []
        for forward, share in ((True, 1 - f if leaving else f), (False, f if leaving else 1 - f)):
            if (not forward and network.base.oneway[i]) or closed & (1 if forward else 2):
                continue
            node = (b if forward else a) if leaving else (a if forward else b)
            ways.append(SeedWay((node, weight * share), length * share, seconds * share, forward))
        return ways

    def _legs_seeds(self, network: RoadNetwork, places: list[Waypoint], metric: Metric,
                    profile: VehicleProfile) -> list[tuple[list[SeedWay], list[SeedWay]]]:
        """Per leg: the ways out of its start and the ways into its end (a via point has both)."""
        return [(self._seeds(network, here, metric, profile, leaving=True),
                 self._seeds(network, there, metric, profile, leaving=False))
                for here, there in zip(places, places[1:], strict=False)]

    def _search(self, network: RoadNetwork, seeds: list[tuple[list[SeedWay], list[SeedWay]]], request: RouteRequest,
                profile: VehicleProfile, options: dict[str, Any]) -> list[tuple[Route, list[int], list[int]]]:
        """Routes as (engine route per leg joined, source seed index per leg, target seed index per leg)."""
        engine = network.engine
        if not all(out and into for out, into in seeds):
            return []
        legs: list[list[Route]] = []
        for here, there in seeds:
            wanted = 1 + request.alternatives if len(seeds) == 1 else 1
            found = alternatives(engine, [w.seed for w in here], [w.seed for w in there], wanted,
                                 request.optimize, profile, **options)
            if not found:
                return []
            legs.append(found)
        if len(legs) == 1:
            return [(r, [r.source], [r.target]) for r in legs[0]]
        whole = joined([leg[0] for leg in legs])
        return [(whole, [leg[0].source for leg in legs], [leg[0].target for leg in legs])]

    @contextmanager
    def _closures_lifted(self, network: RoadNetwork) -> Iterator[None]:
        """Reopen every closed section for one synchronous query (nothing else runs meanwhile)."""
        closed = np.flatnonzero(network.engine.closed)
        bits = network.engine.closed[closed].tolist()
        network.engine.set_closures(closed.tolist(), [0] * len(bits))
        try:
            yield
        finally:
            network.engine.set_closures(closed.tolist(), bits)

    def _why_unroutable(self, network: RoadNetwork, places: list[Waypoint],
                        seeds: list[tuple[list[SeedWay], list[SeedWay]]], request: RouteRequest,
                        profile: VehicleProfile, options: dict[str, Any]) -> Unroutable:
        """Explain a failed search: closures, restrictions or no road at all, with the nearest reachable place."""
        engine = network.engine
        with self._closures_lifted(network):
            lifted = self._legs_seeds(network, places, request.optimize, profile)
            legs = [engine.route([w.seed for w in out], [w.seed for w in into], request.optimize, profile, **options)
                    if out and into else None for out, into in lifted]
            open_route = None if None in legs else joined(legs)  # type: ignore[arg-type]
        names = " → ".join(w.place.name for w in places)
        if open_route is not None:
            assert self.live is not None
            driven = {*open_route.sections.tolist(), *(w.snapped.section for w in places)}
            closing = sorted({e for i in driven for e in self.live.closed_by.get(i, [])})
            texts = [self._event_text(e) for e in closing]
            detail = f"every route {names} is closed now: {'; '.join(texts)}"
        elif options.get("avoid_tolls") or options.get("avoid_expressways") or profile.height_m or profile.total_mass_t:
            detail = f"no route {names} for this vehicle with these avoid options (restrictions or avoided roads)"
        else:
            detail = f"no road connects {names}"
        nearest = self._nearest_reachable(network, seeds[0][0], places[-1], request, profile, options) \
            if seeds[0][0] else None
        return Unroutable(detail, param="to") if nearest is None else _with_nearest(detail, nearest)

    def _nearest_reachable(self, network: RoadNetwork, start: list[SeedWay], goal: Waypoint,
                           request: RouteRequest, profile: VehicleProfile,
                           options: dict[str, Any]) -> dict[str, Any] | None:
        pois = self.model.view(Kind.POI)
        for poi_id, distance in pois.index.nearest(goal.lon, goal.lat, FALLBACK_CANDIDATES * 4, 200_000.0):
            poi = pois.records[poi_id]
            if not isinstance(poi, Poi) or poi.poi_kind not in (PoiKind.TOLL_STATION, PoiKind.SERVICE_AREA,
                                                                PoiKind.BUS_STATION):
                continue
            x, y = poi.geometry.coordinates  # type: ignore[union-attr]
            try:
                snapped = network.snap(x, y, SNAP_M)
            except Unroutable:
                continue
            end = Waypoint(poi.name, goal.place, snapped, x, y)
            target = self._seeds(network, end, request.optimize, profile, leaving=False)
            found = target and network.engine.route([w.seed for w in start], [w.seed for w in target],
                                                    request.optimize, profile, **options)
            if found:
                return {"name": poi.name, "id": poi.id, "lon": x, "lat": y, "distance_km": round(distance / 1000, 1)}
        return None

    def _event_text(self, event_id: str) -> str:
        event = self.model.view(Kind.EVENT).records.get(event_id)
        if not isinstance(event, RoadEvent):
            return event_id
        stakes = format_stake_range(event.start_stake_m, event.end_stake_m)
        return f"{event.road or ''}{' ' + stakes if stakes else ''} {event.description} ({event.id})".strip()

    # ------------------------------------------------------------------ describing
    def _describe(self, network: RoadNetwork, book: TollBook, found: tuple[Route, list[int], list[int]],
                  places: list[Waypoint], seeds: list[tuple[list[SeedWay], list[SeedWay]]], request: RouteRequest,
                  profile: VehicleProfile) -> dict[str, Any]:
        pieces = _pieces(found, places, seeds)
        metres = [float(network.length_m[p.section]) * abs(p.end - p.start) for p in pieces]
        seconds = [m * 3.6 / min(float(network.base.speed_kmh[p.section]), profile.max_speed_kmh)
                   * float(network.engine.slowdown[p.section]) for p, m in zip(pieces, metres, strict=True)]
        arrive = request.depart_at + timedelta(seconds=sum(seconds))
        line = self._line(network, pieces)
        sections = [p.section for p in pieces]
        roads = list(dict.fromkeys(network.records[i].road for i in sections))
        return {
            "distance_km": round(sum(metres) / 1000, 3),
            "duration_min": round(sum(seconds) / 60, 1),
            "arrive_at": arrive.isoformat(),
            "roads": roads,
            "toll": self._toll(network, book, pieces, metres, request, arrive),
            "instructions": self._instructions(network, pieces, metres, seconds, places),
            "events": self._events_on(sections),
            "alerts": self._alerts_along(line),
            "service_areas": self._service_areas_along(line, set(roads)),
            "closures_avoided": self._closures_near(network, line, set(sections)),
            "geometry": {"type": "LineString", "coordinates": [
                [round(v, 7) for v in from_wgs84(x, y, request.crs)] for x, y in line.coords]},
        }

    def _line(self, network: RoadNetwork, pieces: list[Piece]) -> LineString:
        coords: list[tuple[float, float]] = []
        for p in pieces:
            line = network.records[p.section].geometry.shape
            part = substring(line, min(p.start, p.end), max(p.start, p.end), normalized=True)
            points = [tuple(c) for c in part.coords]
            coords.extend(points if p.forward else points[::-1])
        deduped = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
        return LineString(deduped if len(deduped) > 1 else deduped * 2)

    def _toll(self, network: RoadNetwork, book: TollBook, pieces: list[Piece], metres: list[float],
              request: RouteRequest, arrive: datetime) -> dict[str, Any]:
        paths = toll_trips(network, [p.section for p in pieces], metres)
        trip = Trip(request.vehicle_class, request.seats, request.payment, arrive, request.declared)
        try:
            return trips_toll(book, charged(book, paths, trip), trip)
        except NotPriced as err:
            return {"amount_fen": None, "amount_yuan": None, "trips": len(paths), "error": err.detail}

    def _instructions(self, network: RoadNetwork, pieces: list[Piece], metres: list[float], seconds: list[float],
                      places: list[Waypoint]) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        k = 0
        while k < len(pieces):
            road = network.records[pieces[k].section].road
            j = k
            while j + 1 < len(pieces) and network.records[pieces[j + 1].section].road == road:
                j += 1
            start = f"从{places[0].place.name}出发，沿" if k == 0 else None
            steps.append(self._step(network, pieces[k:j + 1], sum(metres[k:j + 1]), sum(seconds[k:j + 1]), start))
            k = j + 1
        steps.append({"text": f"到达{places[-1].place.name}", "road": None, "road_name": None, "direction": None,
                      "from_stake": None, "to_stake": None, "distance_km": 0.0, "duration_min": 0.0})
        return steps

    def _step(self, network: RoadNetwork, group: list[Piece], metres: float, seconds: float,
              start: str | None) -> dict[str, Any]:
        """One instruction: a stretch on one road, with the junction it begins at (or the start)."""
        head, tail = network.records[group[0].section], network.records[group[-1].section]
        begin, end = _stake(head, group[0].start), _stake(tail, group[-1].end)
        a = head.geometry.shape.interpolate(group[0].start, normalized=True)
        b = tail.geometry.shape.interpolate(group[-1].end, normalized=True)
        compass = _compass(a.x, a.y, b.x, b.y)
        km = metres / 1000
        where = start or f"在{self._node_name(a.x, a.y, head.road, begin)}转"
        text = (f"{where}{_road_words(head.road, head.road_name)}，向{compass}行驶 {_km_text(km)} 公里"
                f"（{format_stake(begin)}—{format_stake(end)}）")
        return {"text": text, "road": head.road, "road_name": head.road_name, "direction": compass,
                "from_stake": format_stake(begin), "to_stake": format_stake(end), "distance_km": round(km, 3),
                "duration_min": round(seconds / 60, 1)}

    def _node_name(self, lon: float, lat: float, road: str, stake: float) -> str:
        """The interchange or toll station at a junction, else the road and stake."""
        pois = self.model.view(Kind.POI)
        for poi_id, _ in pois.index.within(lon, lat, NAME_NODE_M):
            poi = pois.records[poi_id]
            if isinstance(poi, Poi) and poi.poi_kind in (PoiKind.INTERCHANGE, PoiKind.TOLL_STATION):
                return poi.name
        return f"{road} {format_stake(stake)}处"

    def _events_on(self, sections: list[int]) -> list[dict[str, Any]]:
        assert self.live is not None
        ids = list(dict.fromkeys(e for i in sections for e in self.live.events_on.get(i, [])))
        view = self.model.view(Kind.EVENT).records
        out = []
        for event_id in ids:
            event = view.get(event_id)
            if isinstance(event, RoadEvent):
                out.append({"id": event.id, "type": event.type.value, "severity": event.severity.value,
                            "road": event.road, "stake_range": format_stake_range(event.start_stake_m,
                                                                                  event.end_stake_m),
                            "description": event.description, "effect": self.live.effects.get(event.id)})
        return out

    def _alerts_along(self, line: LineString) -> list[dict[str, Any]]:
        view = self.model.view(Kind.ALERT)
        now = _now()
        out = []
        for alert_id, _ in view.index.along(line, ALERT_M):
            alert = view.records[alert_id]
            if isinstance(alert, Alert) and alert.in_force(now):
                out.append({"id": alert.id, "event": alert.event, "colour": alert.colour,
                            "severity": alert.severity.value, "headline": alert.headline,
                            "expires": alert.expires.isoformat() if alert.expires else None})
        return out

    def _service_areas_along(self, line: LineString, roads: set[str]) -> list[dict[str, Any]]:
        view = self.model.view(Kind.POI)
        found = []
        for poi_id, _ in view.index.along(line, ALONG_M):
            poi = view.records[poi_id]
            if isinstance(poi, Poi) and poi.poi_kind is PoiKind.SERVICE_AREA and (poi.road in roads or not poi.road):
                x, y = poi.geometry.coordinates  # type: ignore[union-attr]
                found.append((line.project(Point(x, y), normalized=True), poi))
        found.sort(key=lambda item: item[0])
        return [{"id": p.id, "name": p.name, "road": p.road,
                 "stake": format_stake(p.stake_m) if p.stake_m is not None else None,
                 "open_status": p.open_status.value, "status_note": p.status_note,
                 "facilities": p.facilities.model_dump() if p.facilities else None} for _, p in found]

    def _closures_near(self, network: RoadNetwork, line: LineString, used: set[int]) -> list[dict[str, Any]]:
        assert self.live is not None
        events: dict[str, None] = {}
        for i, event_ids in self.live.closed_by.items():
            if i not in used and distance_between_m(network.records[i].geometry.shape, line) <= CORRIDOR_M:
                events.update(dict.fromkeys(event_ids))
        return [{"id": e, "text": self._event_text(e)} for e in events]


@dataclass(frozen=True, slots=True)
class SeedWay:
    """One way between a snapped point and an end of its section: the engine's seed, what it costs, its direction."""

    seed: Seed
    metres: float
    seconds: float
    forward: bool


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of one section driven from fraction ``start`` to ``end`` (0 at from_node, 1 at to_node)."""

    section: int
    forward: bool
    start: float
    end: float


def _pieces(found: tuple[Route, list[int], list[int]], places: list[Waypoint],
            seeds: list[tuple[list[SeedWay], list[SeedWay]]]) -> list[Piece]:
    """The route as pieces: the part of each waypoint's own section, and the whole sections between."""
    route, sources, targets = found
    pieces: list[Piece] = []
    for k, leg in enumerate(route.legs or (route,)):
        here, there = places[k].snapped, places[k + 1].snapped
        leave, arrive = seeds[k][0][sources[k]].forward, seeds[k][1][targets[k]].forward
        pieces.append(Piece(here.section, leave, here.fraction, 1.0 if leave else 0.0))
        pieces += [Piece(s, f, 0.0 if f else 1.0, 1.0 if f else 0.0)
                   for s, f in zip(leg.sections.tolist(), leg.forward.tolist(), strict=True)]
        pieces.append(Piece(there.section, arrive, 0.0 if arrive else 1.0, there.fraction))
    return [p for p in pieces if abs(p.end - p.start) > 1e-9]


def _stake(section: RoadSection, fraction: float) -> float:
    """The stake at a fraction of a section (stakes run from from_node to to_node)."""
    return section.start_stake_m + fraction * (section.end_stake_m - section.start_stake_m)


def _with_nearest(detail: str, nearest: dict[str, Any]) -> Unroutable:
    return Unroutable(f"{detail}; the nearest reachable place is {nearest['name']}, "
                      f"{nearest['distance_km']} km from the destination", param="to",
                      extensions={"nearest_reachable": nearest})


def _compass(lon1: float, lat1: float, lon2: float, lat2: float) -> str:
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    dy = lat2 - lat1
    bearing = math.degrees(math.atan2(dx, dy)) % 360
    return COMPASS[int((bearing + 22.5) // 45) % 8]


def _road_words(code: str, name: str) -> str:
    """G4京港澳高速; a national road named after its number reads G107国道, not G107107国道."""
    number = code[1:]
    return f"{code}{name.removeprefix(number)}" if name.startswith(number) else f"{code}{name}"


def _km_text(km: float) -> str:
    return f"{km:.1f}" if km < 10 else f"{km:.0f}"


def _place_out(w: Waypoint, crs: Crs) -> dict[str, Any]:
    lon, lat = from_wgs84(w.lon, w.lat, crs)
    return {"query": w.query, "place": {"kind": w.place.kind.value, "id": w.place.id, "name": w.place.name},
            "lon": round(lon, 7), "lat": round(lat, 7), "snapped_m": round(w.snapped.distance_m, 1)}


def _now() -> datetime:
    return datetime.now(UTC)


_PLANNERS: weakref.WeakKeyDictionary[ReadModel, Planner] = weakref.WeakKeyDictionary()


def planner_of(model: ReadModel) -> Planner:
    """The planner of ``model`` (one per read model)."""
    planner = _PLANNERS.get(model)
    if planner is None:
        planner = _PLANNERS[model] = Planner(model)
    return planner

