"""Routes between points anywhere on a network are optimal, checked against an edge-expanded Dijkstra.

The reference below is written for the test and shares nothing with the engine but the inputs: its
states are "at node v, having driven section s in direction d" (or "at v, driven nothing yet"), so
turn bans at their via node, one-way sections, closures per direction and vehicle limits apply to
every stretch, also the partial ones between a point and its section's ends, and to the turns into
and out of them. Points lie at nodes, at a section's ends, mid-section and in pairs on one section.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from travel.routing.engine import RouteEngine
from travel.routing.graph import Sections
from travel.routing.kernels import TOLL_SCALE
from travel.routing.network import Snapped
from travel.routing.profiles import PASSENGER_CAR, Metric, VehicleProfile
from travel.routing.search import leg_routes, seed_ways

TRUCK = VehicleProfile(vehicle_class=14, max_speed_kmh=90.0, height_m=4.0)
NO_BLOCKS: dict[str, bool] = {}


@dataclass(frozen=True)
class Case:
    """A random network with live closures and slow-downs, a vehicle, a metric and two points on it."""

    sections: Sections
    closed: list[int]  # per section: 1 from→to closed, 2 to→from, 3 both
    slowdown: list[float]
    fen: np.ndarray
    profile: VehicleProfile
    metric: Metric
    here: Snapped
    there: Snapped


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(2, 7))
    count = draw(st.integers(1, 12))
    ends = [draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)) for _ in range(count)]
    a = np.array([e[0] for e in ends], np.int32)
    b = np.array([e[1] for e in ends], np.int32)
    length = np.array([draw(st.integers(10, 2_000)) for _ in range(count)], float)
    speed = np.array([draw(st.sampled_from([40.0, 60.0, 80.0, 120.0])) for _ in range(count)])
    oneway = np.array([draw(st.booleans()) and draw(st.booleans()) for _ in range(count)])
    toll = np.array([draw(st.booleans()) for _ in range(count)])
    height = np.array([draw(st.sampled_from([math.nan, math.nan, math.nan, 3.5])) for _ in range(count)])
    bans = []
    for _ in range(draw(st.integers(0, 2 * count))):
        i, j = draw(st.integers(0, count - 1)), draw(st.integers(0, count - 1))
        shared = sorted({int(a[i]), int(b[i])} & {int(a[j]), int(b[j])})
        if shared:
            bans.append((i, draw(st.sampled_from(shared)), j))
    sections = Sections(node_count=n, section_from=a, section_to=b, length_m=length, speed_kmh=speed, oneway=oneway,
                        toll=toll, expressway=np.zeros(count, bool), max_height_m=height, banned_turns=bans)
    fen = np.where(toll, [draw(st.integers(0, 900)) for _ in range(count)], 0).astype(float)
    closed = [draw(st.sampled_from([0, 0, 0, 1, 2, 3])) for _ in range(count)]
    slowdown = [draw(st.sampled_from([1.0, 1.0, 1.5, 3.0])) for _ in range(count)]
    fractions = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.01, 0.99))
    here = Snapped(draw(st.integers(0, count - 1)), draw(fractions), 0.0)
    same = draw(st.booleans())
    there = Snapped(here.section if same else draw(st.integers(0, count - 1)), draw(fractions), 0.0)
    return Case(sections, closed, slowdown, fen, draw(st.sampled_from([PASSENGER_CAR, TRUCK])),
                draw(st.sampled_from(list(Metric))), here, there)


def weight(case: Case, s: int) -> float:
    """A whole section's weight in the metric, as the problem defines it."""
    sec = case.sections
    seconds = sec.length_m[s] * 3.6 / min(sec.speed_kmh[s], case.profile.max_speed_kmh) * case.slowdown[s]
    if case.metric is Metric.SHORTEST:
        return float(sec.length_m[s])
    return float(seconds + (case.fen[s] * TOLL_SCALE if case.metric is Metric.CHEAPEST else 0.0))


def open_way(case: Case, s: int, forward: bool) -> bool:
    """May the vehicle drive section s this way now?"""
    sec = case.sections
    too_high = case.profile.height_m is not None and sec.max_height_m[s] < case.profile.height_m
    return not ((not forward and sec.oneway[s]) or case.closed[s] & (1 if forward else 2) or too_high)


def reference(case: Case) -> float:
    """The least cost from ``here`` to ``there`` by Dijkstra over (node, last section driven, direction) states."""
    sec, here, there = case.sections, case.here, case.there
    bans = set(sec.banned_turns)
    ends = [(int(x), int(y)) for x, y in zip(sec.section_from, sec.section_to, strict=True)]

    def allowed(last: tuple[int, bool] | None, via: int, s: int) -> bool:
        return last is None or (last[0], via, s) not in bans

    best = math.inf
    if here.section == there.section:
        share = there.fraction - here.fraction
        if share == 0 or open_way(case, here.section, share > 0):
            best = weight(case, here.section) * abs(share)
    start: list[tuple[float, int, tuple[int, bool] | None]] = []
    i, f = here.section, here.fraction
    a, b = ends[i]
    for node, at, forward, share in ((a, f == 0, False, f), (b, f == 1, True, 1 - f)):
        if at:
            start.append((0.0, node, None))
        elif open_way(case, i, forward):
            start.append((weight(case, i) * share, node, (i, forward)))
    dist: dict[tuple[int, tuple[int, bool] | None], float] = {}
    heap = [(g, k, v, last) for k, (g, v, last) in enumerate(start)]
    heapq.heapify(heap)
    counter = len(heap)
    j, t = there.section, there.fraction
    ja, jb = ends[j]
    while heap:
        g, _, v, last = heapq.heappop(heap)
        if (v, last) in dist:
            continue
        dist[(v, last)] = g
        for node, at, forward, share in ((ja, t == 0, True, t), (jb, t == 1, False, 1 - t)):
            if v == node and (at or (open_way(case, j, forward) and allowed(last, v, j))):
                best = min(best, g + (0.0 if at else weight(case, j) * share))
        for s, (x, y) in enumerate(ends):
            for tail, head, forward in ((x, y, True), (y, x, False)):
                if tail == v and open_way(case, s, forward) and allowed(last, v, s):
                    counter += 1
                    heapq.heappush(heap, (g + weight(case, s), counter, head, (s, forward)))
    return best


def engine_of(case: Case) -> RouteEngine:
    engine = RouteEngine(case.sections, landmarks=2)
    engine.set_closures(range(case.sections.count), case.closed)
    for s, factor in enumerate(case.slowdown):
        engine.set_slowdown([s], factor)
    return engine


@settings(max_examples=400, deadline=None)
@given(cases())
def test_every_route_costs_what_the_edge_expanded_dijkstra_says(case: Case) -> None:
    engine = engine_of(case)
    fen = case.fen if case.metric is Metric.CHEAPEST else None
    ways = (seed_ways(engine, case.here, case.metric, case.profile, fen, leaving=True),
            seed_ways(engine, case.there, case.metric, case.profile, fen, leaving=False))
    options = {} if fen is None else {"toll_cost": fen}
    found = leg_routes(engine, case.here, case.there, ways, 1, case.metric, case.profile, options)
    expected = reference(case)
    if math.isinf(expected):
        assert found == []
    else:
        assert found and math.isclose(found[0].weight, expected, rel_tol=1e-12, abs_tol=1e-9)
