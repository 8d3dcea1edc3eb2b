"""The service's road network as the route engine sees it, kept live from the events in the read model.

``RoadNetwork`` turns the read model's road sections into the engine's arrays (node ids become
integers; lengths are stake spans, the distances signs and tolls use) and snaps points to sections.
``LiveState`` maps active events onto sections — by road and stake range when the event has them,
else by geometry — and writes the differences into the engine: closures close, congestion and
incidents slow, traffic control with limits keeps the vehicles it names off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from shapely.geometry import LineString

from travel.core.errors import Unanswerable
from travel.core.records import Direction, EventStatus, EventType, RoadClass, RoadEvent, RoadSection, Severity
from travel.core.roadgraph import node_index, section_length_m
from travel.core.spatial import locate_on_line
from travel.read.index import GeoIndex
from travel.routing.engine import RouteEngine
from travel.routing.graph import Sections
from travel.routing.profiles import BlockedMasks

log = logging.getLogger(__name__)

AT_NODE = 1e-9  # a snapped point this close (as a fraction) to a section's end is at its node
EVENT_MATCH_M = 60.0  # an event without stakes lies on the sections within this distance of its geometry
CLOSING = frozenset({EventType.CLOSURE})
SLOWDOWN: dict[EventType, dict[Severity, float]] = {
    EventType.CONGESTION: {Severity.MINOR: 1.3, Severity.MODERATE: 1.8, Severity.MAJOR: 2.5, Severity.SEVERE: 4.0},
    EventType.ACCIDENT: {Severity.MINOR: 1.2, Severity.MODERATE: 1.5, Severity.MAJOR: 2.5, Severity.SEVERE: 4.0},
    EventType.CONSTRUCTION: {Severity.MINOR: 1.1, Severity.MODERATE: 1.3, Severity.MAJOR: 1.6, Severity.SEVERE: 2.0},
    EventType.WEATHER: {Severity.MINOR: 1.1, Severity.MODERATE: 1.3, Severity.MAJOR: 1.8, Severity.SEVERE: 2.5},
    EventType.HAZARD: {Severity.MINOR: 1.05, Severity.MODERATE: 1.2, Severity.MAJOR: 1.5, Severity.SEVERE: 2.0},
}
DEFAULT_SLOWDOWN = 1.3  # severity unknown


class Unroutable(Unanswerable):
    """No route can answer the request (disconnected, closed, or too far from any road)."""

    title = "Unroutable"


@dataclass(frozen=True, slots=True)
class Snapped:
    """A point placed on a section: how far along it (0 at from_node) and how far from the point."""

    section: int
    fraction: float
    distance_m: float


class RoadNetwork:
    """Road sections as engine arrays, with lookups back to the records."""

    def __init__(self, sections: Iterable[RoadSection], *, landmarks: int = 16) -> None:
        self.records = sorted(sections, key=lambda r: r.id)
        self.position = {r.id: i for i, r in enumerate(self.records)}
        self.ids = [r.id for r in self.records]
        nodes = node_index(self.records)
        ends = nodes.ends
        self.node_ids, self.lon, self.lat = nodes.ids, nodes.lon, nodes.lat
        self.node_number = {name: i for i, name in enumerate(nodes.ids)}
        self.length_m = np.fromiter((section_length_m(r) for r in self.records), float, len(self.records))
        self.base = Sections(
            node_count=len(nodes.ids), section_from=ends[:, 0].copy(), section_to=ends[:, 1].copy(),
            length_m=self.length_m,
            speed_kmh=np.fromiter((r.speed_kmh for r in self.records), float, len(self.records)),
            oneway=np.fromiter((r.oneway for r in self.records), bool, len(self.records)),
            toll=np.fromiter((r.toll for r in self.records), bool, len(self.records)),
            expressway=np.fromiter((r.road_class is RoadClass.EXPRESSWAY for r in self.records), bool,
                                   len(self.records)),
            max_height_m=self._limits("max_height_m"), max_weight_t=self._limits("max_weight_t"),
            max_axle_load_t=self._limits("max_axle_load_t"),
            forbidden_classes={i: frozenset(r.restrictions.forbidden_classes) for i, r in enumerate(self.records)
                               if r.restrictions and r.restrictions.forbidden_classes},
            banned_turns=self._turn_bans(ends),
        )
        self.engine = RouteEngine(self.base, landmarks=min(landmarks, max(1, len(nodes.ids) // 4)))
        self.index = GeoIndex.build((r.id, r.geometry.shape) for r in self.records)
        self._by_road: dict[str, list[int]] = {}
        for i, r in enumerate(self.records):
            self._by_road.setdefault(r.road, []).append(i)

    def _turn_bans(self, ends: np.ndarray) -> list[tuple[int, int, int]]:
        """(from, via node, to) for every banned turn whose sections exist and meet at its via node.

        A ban without a via node holds at every node the two sections share.
        """
        bans = []
        for i, record in enumerate(self.records):
            for turn in record.banned_turns:
                j = self.position.get(turn.to)
                if j is None:
                    log.warning("turn ban to an unknown section ignored", extra={"section": record.id, "to": turn.to})
                    continue
                shared = set(ends[i].tolist()) & set(ends[j].tolist())
                if turn.via is not None:
                    via = self.node_number.get(turn.via)
                    if via not in shared:
                        log.warning("turn ban at a node the sections do not share ignored",
                                    extra={"section": record.id, "to": turn.to, "via": turn.via})
                        continue
                    shared = {via}
                bans.extend((i, via, j) for via in sorted(shared))
        return bans

    def _limits(self, name: str) -> np.ndarray:
        values = [getattr(r.restrictions, name) if r.restrictions else None for r in self.records]
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    def snap(self, lon: float, lat: float, max_m: float) -> Snapped:
        """The nearest section to a point, or Unroutable naming how far the nearest road is."""
        found = self.index.nearest(lon, lat, 1, max_m)
        if not found:
            nearest = self.index.nearest(lon, lat, 1, 1_000_000.0)
            detail = (f"; the nearest road is {nearest[0][1] / 1000:.1f} km away" if nearest else "")
            raise Unroutable(f"{lon:.6f},{lat:.6f} is more than {max_m / 1000:g} km from any road{detail}")
        section = self.position[found[0][0]]
        fraction, distance = locate_on_line(self.records[section].geometry.shape, lon, lat)
        if fraction < AT_NODE or fraction > 1 - AT_NODE:  # on the junction itself, not a hair's breadth along
            fraction = float(round(fraction))
        return Snapped(section, fraction, distance)

    def on_road(self, road: str, low_m: float, high_m: float) -> list[int]:
        """Sections of ``road`` whose stake span overlaps [low, high] (a point when low == high)."""
        out = []
        for i in self._by_road.get(road, ()):
            r = self.records[i]
            a, b = sorted((r.start_stake_m, r.end_stake_m))
            if a <= high_m and low_m <= b and (a < high_m or low_m == high_m or b == low_m):
                out.append(i)
        return out

    def near(self, line: LineString | None, road: str | None) -> list[int]:
        """Sections within EVENT_MATCH_M of a geometry (on ``road`` when given)."""
        if line is None:
            return []
        hits = [self.position[i] for i, _ in self.index.along(line, EVENT_MATCH_M)] if line.geom_type != "Point" \
            else [self.position[i] for i, _ in self.index.within(line.x, line.y, EVENT_MATCH_M)]
        return [i for i in hits if road is None or self.records[i].road == road]

    def sections_of(self, event: RoadEvent) -> list[int]:
        """The sections an event lies on."""
        if event.road and event.start_stake_m is not None:
            end = event.end_stake_m if event.end_stake_m is not None else event.start_stake_m
            found = self.on_road(event.road, min(event.start_stake_m, end), max(event.start_stake_m, end))
            if found:
                return found
        return self.near(event.geometry.shape if event.geometry else None, event.road)


def slowdown_of(event: RoadEvent, speed_kmh: float) -> float:
    """How much an event multiplies travel time (1: not at all)."""
    if event.reduced_speed_kmh:
        return max(1.0, speed_kmh / event.reduced_speed_kmh)
    table = SLOWDOWN.get(event.type)
    if table is None:
        return 1.0
    return table.get(event.severity, DEFAULT_SLOWDOWN)


def in_effect(event: RoadEvent, now: datetime) -> bool:
    """Active, started, and not past its expected end."""
    return (event.status is EventStatus.ACTIVE and (event.start_time is None or event.start_time <= now)
            and (event.expected_end is None or now < event.expected_end))


def closes(event: RoadEvent) -> bool:
    """Closures, and traffic control that names no limits (管制 on an expressway closes it)."""
    return event.type in CLOSING or (event.type is EventType.CONTROL and not _limits_any(event))


def _limits_any(event: RoadEvent) -> bool:
    r = event.restrictions
    return r is not None and bool(r.max_height_m or r.max_weight_t or r.max_axle_load_t or r.forbidden_classes)


class LiveState:
    """Which sections are closed, slowed or restricted now, and by which events; written into the engine."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self.closed_by: dict[int, list[str]] = {}
        self.slowed: dict[int, float] = {}
        self.restricted_by: dict[int, list[str]] = {}
        self.events_on: dict[int, list[str]] = {}  # every event in effect, by section
        self.effects: dict[str, str] = {}  # event id → what it does to routing (zh)
        self.version = 0  # counts the syncs that changed what a route may be (closures, slow-downs, limits)

    def sync(self, events: Iterable[RoadEvent], now: datetime) -> None:
        """Make the engine reflect exactly the events in effect at ``now``."""
        network, engine = self.network, self.network.engine
        closed: dict[int, list[str]] = {}
        bits: dict[int, int] = {}
        slowed: dict[int, float] = {}
        restricted: dict[int, list[RoadEvent]] = {}
        events_on: dict[int, list[str]] = {}
        effects: dict[str, str] = {}
        for event in events:
            if not in_effect(event, now):
                continue
            for i in network.sections_of(event):
                events_on.setdefault(i, []).append(event.id)
                if closes(event):
                    closed.setdefault(i, []).append(event.id)
                    bits[i] = bits.get(i, 0) | _closed_bits(event, network.records[i])
                    effects[event.id] = "封闭，路线绕行"
                elif event.type is EventType.CONTROL:
                    restricted.setdefault(i, []).append(event)
                    effects[event.id] = "限行，受限车辆绕行"
                else:
                    factor = slowdown_of(event, float(network.base.speed_kmh[i]))
                    if factor > 1.0:
                        effects[event.id] = f"通行时间按{factor:.1f}倍计"
                    if factor > slowed.get(i, 1.0):
                        slowed[i] = factor
        changed = [i for i in {*self.closed_by, *closed} if int(engine.closed[i]) != bits.get(i, 0)]
        engine.set_closures(changed, [bits.get(i, 0) for i in changed])
        engine.clear_slowdown([i for i in self.slowed if i not in slowed])
        for i, factor in slowed.items():
            if self.slowed.get(i) != factor:
                engine.set_slowdown([i], factor)
        signature = {i: [e.id for e in evs] for i, evs in restricted.items()}
        if changed or slowed != self.slowed or signature != self.restricted_by:
            self.version += 1
        if signature != self.restricted_by:
            engine.masks = BlockedMasks(_with_restrictions(network.base, restricted))
            self.restricted_by = signature
        self.closed_by, self.slowed, self.events_on, self.effects = closed, slowed, events_on, effects


def _closed_bits(event: RoadEvent, section: RoadSection) -> int:
    """Which directions of a section an event closes: 1 from→to, 2 to→from, 3 both.

    Directions are stake directions (上行 = increasing); a section drawn against its stakes swaps them.
    """
    if event.direction not in (Direction.INCREASING, Direction.DECREASING):
        return 3
    increasing_is_forward = section.end_stake_m >= section.start_stake_m
    forward = (event.direction is Direction.INCREASING) == increasing_is_forward
    return 1 if forward else 2


def _with_restrictions(base: Sections, restricted: dict[int, list[RoadEvent]]) -> Sections:
    """The base sections with traffic-control limits laid over them (the tighter limit wins)."""
    if not restricted:
        return base
    limits = {name: base.limit(name).copy() for name in ("max_height_m", "max_weight_t", "max_axle_load_t")}
    forbidden = dict(base.forbidden_classes)
    for i, events in restricted.items():
        for event in events:
            r = event.restrictions
            assert r is not None
            for name in limits:
                value = getattr(r, name)
                if value is not None:
                    limits[name][i] = value if np.isnan(limits[name][i]) else min(value, limits[name][i])
            if r.forbidden_classes:
                forbidden[i] = forbidden.get(i, frozenset()) | frozenset(r.forbidden_classes)
    return replace(base, forbidden_classes=forbidden, **limits)
