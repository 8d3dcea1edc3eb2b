"""The route engine against a plain Dijkstra on random small networks, and its live state, alternatives, threads."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.routing.reference import best_cost, costs_to, path_cost, usable
from travel.routing.alternatives import alternatives, shared_fraction
from travel.routing.engine import Route, RouteEngine
from travel.routing.graph import Sections
from travel.routing.profiles import PASSENGER_CAR, VehicleProfile

PROFILES = [PASSENGER_CAR,
            VehicleProfile(vehicle_class=12, max_speed_kmh=90.0, height_m=4.0, total_mass_t=30.0, axle_load_t=10.0),
            VehicleProfile(vehicle_class=13, max_speed_kmh=60.0, total_mass_t=49.0)]


@st.composite
def networks(draw: st.DrawFn, multigraphs: bool = True, sides: tuple[int, int] = (2, 4)) -> Sections:
    """Random sections: any multigraph (loops, parallel sections, islands) or a grid of the given side lengths."""
    if multigraphs and draw(st.booleans()):
        n = draw(st.integers(2, 8))
        node = st.integers(0, n - 1)
        ends = draw(st.lists(st.tuples(node, node), min_size=1, max_size=16))
    else:  # a small grid, where banned turns and one-ways really force detours
        w, h = draw(st.integers(*sides)), draw(st.integers(sides[0], sides[1] - 1))
        n = w * h
        ends = [(r * w + c, r * w + c + 1) for r in range(h) for c in range(w - 1)]
        ends += [(r * w + c, (r + 1) * w + c) for r in range(h - 1) for c in range(w)]
    s = len(ends)
    flags = st.lists(st.sampled_from([False, False, False, True]), min_size=s, max_size=s)  # sparse, like real ones
    limit = st.sampled_from([math.nan, math.nan, math.nan, 3.5, 4.5, 20.0, 55.0])
    turns = [(a, v, b) for a in range(s) for b in range(s) if a != b for v in sorted(set(ends[a]) & set(ends[b]))]
    banned = draw(st.lists(st.sampled_from(turns), max_size=10, unique=True)) if turns else []
    toll, expressway = np.array(draw(flags)), np.array(draw(flags))
    speed = np.array(draw(st.lists(st.sampled_from([20.0, 40.0, 60.0, 80.0]), min_size=s, max_size=s)))
    return Sections(
        node_count=n,
        section_from=np.array([a for a, _ in ends], np.int32), section_to=np.array([b for _, b in ends], np.int32),
        length_m=np.array(draw(st.lists(st.integers(0, 5000), min_size=s, max_size=s)), float),
        speed_kmh=np.where(toll | expressway, 120.0, speed),  # fast, so that routes want them
        oneway=np.array(draw(flags)), toll=toll, expressway=expressway,
        max_height_m=np.array(draw(st.lists(limit, min_size=s, max_size=s))),
        max_weight_t=np.array(draw(st.lists(limit, min_size=s, max_size=s))),
        max_axle_load_t=None,
        forbidden_classes=draw(st.dictionaries(st.integers(0, s - 1), st.frozensets(st.sampled_from([1, 12, 13]),
                                                                                    min_size=1), max_size=3)),
        banned_turns=banned,
    )


def seeds(n: int, end: int) -> st.SearchStrategy[list[tuple[int, float]]]:
    """Mostly one end of the network (corners of a grid: long routes), sometimes anywhere, sometimes several."""
    node = st.one_of(st.just(end), st.integers(0, n - 1))
    return st.lists(st.tuples(node, st.sampled_from([0.0, 0.0, 7.5, 120.0])), min_size=1, max_size=3)


def assert_drivable(sections: Sections, route: Route, engine: RouteEngine, profile: VehicleProfile,
                    avoid_tolls: bool, avoid_expressways: bool) -> None:
    """The path is connected, respects one-ways, closures, the vehicle, avoid flags and banned turns."""
    assert len(route.nodes) == len(route.sections) + 1
    for i, (sec, fwd) in enumerate(zip(route.sections.tolist(), route.forward.tolist(), strict=True)):
        a, b = int(sections.section_from[sec]), int(sections.section_to[sec])
        assert (route.nodes[i], route.nodes[i + 1]) == ((a, b) if fwd else (b, a))
        assert fwd or not sections.oneway[sec]
        assert not engine.closed[sec]
        assert usable(sections, sec, profile, avoid_tolls, avoid_expressways)
        if i:
            assert (int(route.sections[i - 1]), int(route.nodes[i]), sec) not in set(sections.banned_turns)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_route_cost_equals_plain_dijkstra(data: st.DataObject) -> None:
    check_against_oracle(data, data.draw(networks()))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_route_cost_equals_plain_dijkstra_on_larger_grids(data: st.DataObject) -> None:
    """Where landmark bounds are far from zero, so a bound that overestimates would show."""
    check_against_oracle(data, data.draw(networks(multigraphs=False, sides=(6, 12))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_search_potential_never_exceeds_the_true_cost(data: st.DataObject) -> None:
    """The landmark bound chosen for each kind of request is a lower bound at every node (A*'s whole premise)."""
    sections = data.draw(networks(multigraphs=False, sides=(5, 10)))
    engine = RouteEngine(sections, landmarks=data.draw(st.integers(1, 6)))
    metric = data.draw(st.sampled_from(["shortest", "fastest", "cheapest"]))
    profile = data.draw(st.sampled_from(PROFILES))
    flags = dict(avoid_tolls=data.draw(st.booleans()), avoid_expressways=data.draw(st.booleans()))
    toll_cost = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 250.0]), min_size=sections.count,
                                            max_size=sections.count)))
    targets = data.draw(seeds(sections.node_count, sections.node_count - 1))
    truth = costs_to(sections, targets, metric, profile, toll_cost=toll_cost, **flags)
    for v in range(sections.node_count):
        bound = engine.lower_bound(v, targets, metric, profile, toll_cost=toll_cost, **flags)
        assert bound <= truth.get(v, math.inf) * (1 + 1e-9), v


def check_against_oracle(data: st.DataObject, sections: Sections) -> None:
    """One random request, before and after random live changes, against the reference Dijkstra."""
    n, s = sections.node_count, sections.count
    engine = RouteEngine(sections, landmarks=data.draw(st.integers(1, 4)))
    metric = data.draw(st.sampled_from(["shortest", "fastest", "cheapest"]))
    profile = data.draw(st.sampled_from(PROFILES))
    avoid_tolls, avoid_expressways = data.draw(st.booleans()), data.draw(st.booleans())
    toll_cost = data.draw(st.lists(st.sampled_from([0.0, 1.0, 250.0, 4000.0]), min_size=s, max_size=s))
    sources, targets = data.draw(seeds(n, 0)), data.draw(seeds(n, n - 1))
    options = dict(avoid_tolls=avoid_tolls, avoid_expressways=avoid_expressways, toll_cost=np.array(toll_cost))
    engine.route(sources, targets, metric, profile, **options)  # a query before the live changes, as in service
    closed = set(data.draw(st.lists(st.integers(0, s - 1), max_size=4)))
    slowdown = data.draw(st.dictionaries(st.integers(0, s - 1), st.sampled_from([1.0, 1.5, 4.0]), max_size=4))
    engine.close_sections(closed)
    for sec, factor in slowdown.items():
        engine.set_slowdown([sec], factor)

    route = engine.route(sources, targets, metric, profile, **options)
    expected = best_cost(sections, sources, targets, metric, profile, closed, slowdown, avoid_tolls,
                         avoid_expressways, toll_cost)
    if expected is None:
        assert route is None
        return
    assert route is not None
    assert route.weight == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert_drivable(sections, route, engine, profile, avoid_tolls, avoid_expressways)
    assert route.nodes[0] == sources[route.source][0] and route.nodes[-1] == targets[route.target][0]
    legs = sources[route.source][1] + targets[route.target][1]
    assert legs + path_cost(sections, route.sections, metric, profile, slowdown, toll_cost) == pytest.approx(
        route.weight, rel=1e-9, abs=1e-9)
    if metric == "cheapest":
        assert route.cost == sum(toll_cost[i] for i in route.sections.tolist())

    engine.reopen_sections(closed)
    engine.clear_slowdown(list(slowdown))
    again = engine.route(sources, targets, metric, profile, **options)
    assert again is not None
    assert again.weight == pytest.approx(best_cost(sections, sources, targets, metric, profile, set(), {},
                                                   avoid_tolls, avoid_expressways, toll_cost), rel=1e-9, abs=1e-9)


def grid(side: int, seed: int = 3) -> Sections:
    """A side×side grid with 1 km sections at mixed speeds, every 4th line a fast tolled expressway."""
    rng = np.random.default_rng(seed)
    node = np.arange(side * side).reshape(side, side)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()]).astype(np.int32)
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()]).astype(np.int32)
    line = np.concatenate([np.repeat(np.arange(side), side - 1), np.tile(np.arange(side), side - 1)])
    fast = line % 4 == 0
    count = a.size
    return Sections(node_count=side * side, section_from=a, section_to=b,
                    length_m=rng.uniform(900.0, 1100.0, count), speed_kmh=np.where(fast, 120.0, 60.0),
                    oneway=np.zeros(count, bool), toll=fast, expressway=fast)


@pytest.fixture(scope="module")
def city() -> RouteEngine:
    return RouteEngine(grid(30), landmarks=8)


def test_closure_is_visible_to_the_next_query_and_clearance_too(city: RouteEngine) -> None:
    corner = city.graph.node_count - 1
    before = city.route([(0, 0.0)], [(corner, 0.0)])
    assert before is not None
    middle = int(before.sections[len(before.sections) // 2])
    city.close_sections([middle])
    try:
        detour = city.route([(0, 0.0)], [(corner, 0.0)])
        assert detour is not None and middle not in detour.sections.tolist()
        assert detour.weight >= before.weight
    finally:
        city.reopen_sections([middle])
    assert city.route([(0, 0.0)], [(corner, 0.0)]).weight == before.weight


def test_slowdown_moves_traffic_and_refuses_speedups(city: RouteEngine) -> None:
    corner = city.graph.node_count - 1
    before = city.route([(0, 0.0)], [(corner, 0.0)])
    city.set_slowdown(before.sections.tolist(), 5.0)
    try:
        after = city.route([(0, 0.0)], [(corner, 0.0)])
        assert after.time_s > before.time_s and not np.array_equal(after.sections, before.sections)
        assert city.route([(0, 0.0)], [(corner, 0.0)], "shortest").length_m == pytest.approx(
            city.route([(0, 0.0)], [(corner, 0.0)], "shortest").length_m)
    finally:
        city.clear_slowdown(before.sections.tolist())
    with pytest.raises(ValueError, match=">= 1"):
        city.set_slowdown([0], 0.5)


def test_avoid_flags_and_cheapest_stay_off_tolls_when_a_free_road_exists(city: RouteEngine) -> None:
    start, end = 1 * 30 + 1, 27 * 30 + 27  # off the expressway lines (rows and columns 0, 4, 8 …)
    toll_fen = np.where(city.sections.toll, 300.0, 0.0)
    fastest = city.route([(start, 0.0)], [(end, 0.0)], toll_cost=toll_fen)
    cheapest = city.route([(start, 0.0)], [(end, 0.0)], "cheapest", toll_cost=toll_fen)
    avoiding = city.route([(start, 0.0)], [(end, 0.0)], avoid_tolls=True)
    assert fastest.toll > 0
    assert cheapest.cost == 0 and not city.sections.toll[cheapest.sections].any()
    assert cheapest.time_s == pytest.approx(avoiding.time_s)  # ties on money broken by time
    with pytest.raises(ValueError, match="toll_cost"):
        city.route([(start, 0.0)], [(end, 0.0)], "cheapest")


def test_via_points_chain_the_best_legs(city: RouteEngine) -> None:
    a, b, c = 0, 29 * 30, city.graph.node_count - 1
    via = city.route_via([[(a, 0.0)], [(b, 0.0)], [(c, 0.0)]])
    legs = [city.route([(a, 0.0)], [(b, 0.0)]), city.route([(b, 0.0)], [(c, 0.0)])]
    assert via.weight == pytest.approx(sum(leg.weight for leg in legs))
    assert via.nodes[0] == a and via.nodes[-1] == c and b in via.nodes.tolist()
    assert len(via.nodes) == len(via.sections) + 1 and len(via.legs) == 2


def test_alternatives_are_different_and_not_much_worse(city: RouteEngine) -> None:
    corner = city.graph.node_count - 1
    routes = alternatives(city, [(0, 0.0)], [(corner, 0.0)], 3)
    assert len(routes) == 3
    best = city.route([(0, 0.0)], [(corner, 0.0)])
    assert routes[0].weight == best.weight
    length = np.asarray(city.sections.length_m)
    for i, route in enumerate(routes[1:], 1):
        assert route.weight <= 1.4 * best.weight
        for earlier in routes[:i]:
            assert shared_fraction(route, earlier, length) <= 0.7


def test_unreachable_is_none_and_bad_input_is_refused(city: RouteEngine) -> None:
    island = Sections(node_count=3, section_from=np.array([0], np.int32), section_to=np.array([1], np.int32),
                      length_m=np.array([10.0]), speed_kmh=np.array([50.0]), oneway=np.array([True]),
                      toll=np.array([False]), expressway=np.array([False]))
    engine = RouteEngine(island)
    assert engine.route([(1, 0.0)], [(0, 0.0)]) is None
    assert engine.route([(0, 0.0)], [(2, 0.0)]) is None
    with pytest.raises(ValueError, match="node index"):
        engine.route([(5, 0.0)], [(0, 0.0)])
    with pytest.raises(ValueError, match="offsets"):
        engine.route([(0, -1.0)], [(1, 0.0)])
    with pytest.raises(ValueError, match="speed_kmh"):
        RouteEngine(Sections(**{**island.__dict__, "speed_kmh": np.array([0.0])}))


def test_two_engines_in_one_process_keep_their_own_live_state(city: RouteEngine) -> None:
    other = RouteEngine(grid(30), landmarks=8)
    corner = city.graph.node_count - 1
    before = city.route([(0, 0.0)], [(corner, 0.0)])
    other.close_sections(before.sections.tolist())
    assert city.route([(0, 0.0)], [(corner, 0.0)]).weight == before.weight
    assert other.route([(0, 0.0)], [(corner, 0.0)]).weight > before.weight


def test_queries_from_many_threads_agree_with_one_thread(city: RouteEngine) -> None:
    rng = np.random.default_rng(5)
    pairs = [tuple(int(x) for x in rng.integers(city.graph.node_count, size=2)) for _ in range(200)]
    alone = [city.route([(s, 0.0)], [(t, 0.0)]).weight for s, t in pairs]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda p: city.route([(p[0], 0.0)], [(p[1], 0.0)]).weight, pairs))
    assert together == alone


def test_a_full_heap_grows_and_the_answer_is_the_same() -> None:
    engine = RouteEngine(grid(12), landmarks=2)
    expected = engine.route([(0, 0.0)], [(143, 0.0)]).weight
    small = RouteEngine(grid(12), landmarks=2)
    small._heap_size = 4  # the first workspace starts too small and must grow
    assert small.route([(0, 0.0)], [(143, 0.0)]).weight == expected


def test_vehicle_masks_are_cached_and_independent_of_closures(city: RouteEngine) -> None:
    truck = VehicleProfile(vehicle_class=12, max_speed_kmh=90.0, height_m=4.0)
    first = city.masks.get(truck, True, False)
    city.close_sections([0])
    try:
        assert city.masks.get(truck, True, False) is first
        assert first[0] == city.sections.toll[0]
    finally:
        city.reopen_sections([0])
