"""The answer people read: found routes written as the body of GET /v1/routes.

The engine answers sections; a traveller wants a distance, a time, a toll and directions. Each route
is cut into pieces of sections (the waypoints' own sections only in part) from which come its
length, time and line; the toll is priced per stretch on toll roads as a quote prices it; the
instructions are Chinese, one per road, naming the junction by its interchange or toll station
and the stretch by stakes. The events on the route, the alerts and service areas along it and the
closures it went around are read from the model as they are at the time of asking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from shapely.geometry import LineString, Point
from shapely.ops import substring

from travel.core.crs import Crs, from_wgs84
from travel.core.records import Alert, Kind, Poi, PoiKind, RoadEvent, RoadSection
from travel.core.spatial import distance_between_m
from travel.core.stakes import format_stake, format_stake_range
from travel.core.zone import shown
from travel.read.readmodel import ReadModel
from travel.routing.answer import (
    ClosureOut,
    InstructionOut,
    RouteAlertOut,
    RouteEventOut,
    RouteOut,
    RoutesOut,
    ServiceAreaOut,
    UnpricedTollOut,
    WaypointOut,
)
from travel.routing.network import LiveState, RoadNetwork
from travel.routing.search import DIRECT, Found, Journey, RouteRequest, Waypoint
from travel.routing.stations import toll_trips
from travel.tolls.answer import TollOut
from travel.tolls.book import TollBook
from travel.tolls.policies import Trip
from travel.tolls.quote import charged, trips_toll
from travel.tolls.tariff import NotPriced

NAME_NODE_M = 1_500.0  # a junction is named after the interchange or station this close to it
ALONG_M = 500.0  # service areas this close to the route are on it
ALERT_M = 1_000.0
CORRIDOR_M = 30_000.0  # closures this close to the route are named as avoided
COMPASS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of one section driven from fraction ``start`` to ``end`` (0 at from_node, 1 at to_node)."""

    section: int
    forward: bool
    start: float
    end: float


class Renderer:
    """Writes routes found on one read model's network as the API's answer."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model

    def answer(self, journey: Journey, found: list[Found], live: LiveState, book: TollBook) -> RoutesOut:
        """The routes (the best first) as the API's JSON body."""
        request = journey.request
        places = journey.places
        out = [self._route(journey, route, live, book) for route in found]
        answer: RoutesOut = {
            "from": _place_out(places[0], request.crs), "to": _place_out(places[-1], request.crs),
            "via": [_place_out(w, request.crs) for w in places[1:-1]],
            "vehicle_class": {"code": request.vehicle_class.code, "name": request.vehicle_class.name,
                              "kind": request.vehicle_class.kind.value},
            "optimize": request.optimize.value, "depart_at": shown(request.depart_at, _zone(request)),
            "avoid": ["closures", *(["tolls"] if request.avoid_tolls else []),
                      *(["expressways"] if request.avoid_expressways else [])],
            "routes": out,
        }
        return answer

    def _route(self, journey: Journey, found: Found, live: LiveState, book: TollBook) -> RouteOut:
        network, request = journey.network, journey.request
        pieces = _pieces(journey, found)
        metres = [float(network.length_m[p.section]) * abs(p.end - p.start) for p in pieces]
        seconds = [m * 3.6 / min(float(network.base.speed_kmh[p.section]), journey.profile.max_speed_kmh)
                   * float(network.engine.slowdown[p.section]) for p, m in zip(pieces, metres, strict=True)]
        arrive = request.depart_at.astimezone(UTC) + timedelta(seconds=sum(seconds))  # in UTC: no wall-clock sum
        line = _line(network, pieces)
        sections = [p.section for p in pieces]
        roads = list(dict.fromkeys(network.records[i].road for i in sections))
        return {
            "distance_km": round(sum(metres) / 1000, 3),
            "duration_min": round(sum(seconds) / 60, 1),
            "arrive_at": shown(arrive, _zone(request)),
            "roads": roads,
            "toll": _toll(journey, book, pieces, metres, arrive),
            "instructions": self._instructions(network, pieces, metres, seconds, journey.places),
            "events": self._events_on(live, sections),
            "alerts": self._alerts_along(line, _zone(request)),
            "service_areas": self._service_areas_along(line, set(roads)),
            "closures_avoided": self._closures_near(network, live, line, set(sections)),
            "geometry": {"type": "LineString", "coordinates": [
                [round(v, 7) for v in from_wgs84(x, y, request.crs)] for x, y in line.coords]},
        }

    def _instructions(self, network: RoadNetwork, pieces: list[Piece], metres: list[float], seconds: list[float],
                      places: list[Waypoint]) -> list[InstructionOut]:
        steps: list[InstructionOut] = []
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
              start: str | None) -> InstructionOut:
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

    def _events_on(self, live: LiveState, sections: list[int]) -> list[RouteEventOut]:
        ids = list(dict.fromkeys(e for i in sections for e in live.events_on.get(i, [])))
        view = self.model.view(Kind.EVENT).records
        out: list[RouteEventOut] = []
        for event_id in ids:
            event = view.get(event_id)
            if isinstance(event, RoadEvent):
                out.append({"id": event.id, "type": event.type.value, "severity": event.severity.value,
                            "road": event.road, "stake_range": format_stake_range(event.start_stake_m,
                                                                                  event.end_stake_m),
                            "description": event.description, "effect": live.effects.get(event.id)})
        return out

    def _alerts_along(self, line: LineString, zone: tzinfo) -> list[RouteAlertOut]:
        view = self.model.view(Kind.ALERT)
        now = datetime.now(UTC)
        out: list[RouteAlertOut] = []
        for alert_id, _ in view.index.along(line, ALERT_M):
            alert = view.records[alert_id]
            if isinstance(alert, Alert) and alert.in_force(now):
                out.append({"id": alert.id, "event": alert.event, "colour": alert.colour,
                            "severity": alert.severity.value, "headline": alert.headline,
                            "expires": shown(alert.expires, zone) if alert.expires else None})
        return out

    def _service_areas_along(self, line: LineString, roads: set[str]) -> list[ServiceAreaOut]:
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

    def _closures_near(self, network: RoadNetwork, live: LiveState, line: LineString,
                       used: set[int]) -> list[ClosureOut]:
        events: dict[str, None] = {}
        for i, event_ids in live.closed_by.items():
            if i not in used and distance_between_m(network.records[i].geometry.shape, line) <= CORRIDOR_M:
                events.update(dict.fromkeys(event_ids))
        return [{"id": e, "text": event_text(self.model, e)} for e in events]


def _zone(request: RouteRequest) -> tzinfo:
    """The zone an answer's times are written in: the departure's (the API gives it in the service's zone)."""
    return request.depart_at.tzinfo or UTC  # an aware time has one


def event_text(model: ReadModel, event_id: str) -> str:
    """An event as one line for people: road, stakes, description and id (the id alone once it is gone)."""
    event = model.view(Kind.EVENT).records.get(event_id)
    if not isinstance(event, RoadEvent):
        return event_id
    stakes = format_stake_range(event.start_stake_m, event.end_stake_m)
    return f"{event.road or ''}{' ' + stakes if stakes else ''} {event.description} ({event.id})".strip()


def _pieces(journey: Journey, found: Found) -> list[Piece]:
    """The route as pieces: the part of each waypoint's own section, and the whole sections between."""
    route, sources, targets = found
    places, legs = journey.places, journey.legs
    pieces: list[Piece] = []
    for k, leg in enumerate(route.legs or (route,)):
        here, there = places[k].snapped, places[k + 1].snapped
        if sources[k] == DIRECT:
            pieces.append(Piece(here.section, there.fraction >= here.fraction, here.fraction, there.fraction))
            continue
        leave, arrive = legs[k][0][sources[k]].forward, legs[k][1][targets[k]].forward
        pieces.append(Piece(here.section, leave, here.fraction, 1.0 if leave else 0.0))
        pieces += [Piece(s, f, 0.0 if f else 1.0, 1.0 if f else 0.0)
                   for s, f in zip(leg.sections.tolist(), leg.forward.tolist(), strict=True)]
        pieces.append(Piece(there.section, arrive, 0.0 if arrive else 1.0, there.fraction))
    return [p for p in pieces if abs(p.end - p.start) > 1e-9]


def _line(network: RoadNetwork, pieces: list[Piece]) -> LineString:
    coords: list[tuple[float, float]] = []
    for p in pieces:
        line = network.records[p.section].geometry.shape
        part = substring(line, min(p.start, p.end), max(p.start, p.end), normalized=True)
        points = [tuple(c) for c in part.coords]
        coords.extend(points if p.forward else points[::-1])
    deduped = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
    return LineString(deduped if len(deduped) > 1 else deduped * 2)


def _toll(journey: Journey, book: TollBook, pieces: list[Piece], metres: list[float],
          arrive: datetime) -> TollOut | UnpricedTollOut:
    """What the route pays, each stretch on toll roads a trip of its own, priced as a quote prices it."""
    request = journey.request
    paths = toll_trips(journey.network, [p.section for p in pieces], metres)
    trip = Trip(vehicle_class=request.vehicle_class, seats=request.seats, payment=request.payment, at=arrive,
                declared=request.declared)
    try:
        return trips_toll(book, charged(book, paths, trip), trip)
    except NotPriced as err:
        return {"amount_fen": None, "amount_yuan": None, "trips": len(paths), "error": err.detail}


def _stake(section: RoadSection, fraction: float) -> float:
    """The stake at a fraction of a section (stakes run from from_node to to_node)."""
    return section.start_stake_m + fraction * (section.end_stake_m - section.start_stake_m)


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


def _place_out(w: Waypoint, crs: Crs) -> WaypointOut:
    lon, lat = from_wgs84(w.lon, w.lat, crs)
    return {"query": w.query, "place": {"kind": w.place.kind.value, "id": w.place.id, "name": w.place.name},
            "lon": round(lon, 7), "lat": round(lat, 7), "snapped_m": round(w.snapped.distance_m, 1)}
