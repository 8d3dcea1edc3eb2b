"""The smallest cases of issue 23 through the planner: points at junctions, two points on one section,
turn bans at their via node only, and a waypoint's own section obeying bans, one-ways and limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import event, section
from tests.routing.test_planner import planner_over, request, square
from travel.core.records import Restrictions, RoadSection
from travel.routing.network import RoadNetwork, Unroutable
from travel.routing.profiles import Metric

U, T, A = (113.0, 34.0), (113.1, 34.0), (113.05, 34.05)


def triangle(**changes: dict[str, Any]) -> list[RoadSection]:
    """U→T and A→T one-way (9.2 and 7.0 km), A–U two-way (7.0 km): every junction is shared by a one-way."""
    spec = {"ut": ([U, T], "S1", "u", "t", 9_200.0, True), "at": ([A, T], "S2", "a", "t", 7_000.0, True),
            "au": ([A, U], "S3", "a", "u", 7_000.0, False)}
    out = []
    for name, (coords, road, a, b, length, oneway) in spec.items():
        data: dict[str, Any] = dict(road=road, road_name="测试公路", road_class="provincial", from_node=a, to_node=b,
                                    start_stake_m=0.0, end_stake_m=length, speed_kmh=60.0, oneway=oneway)
        data.update(changes.get(name, {}))
        out.append(section(name, coords, **data))
    return out


def at(point: tuple[float, float]) -> str:
    return f"{point[0]},{point[1]}"


async def km(records: list[Any], origin: str, destination: str, **kw: Any) -> float:
    """The best route's length."""
    body = await planner_over(records).plan(request(origin, destination, **kw))
    return body["routes"][0]["distance_km"]


@pytest.mark.parametrize("optimize", list(Metric))
async def test_a_point_exactly_at_a_junction_stands_there(optimize: Metric) -> None:
    assert await km(triangle(), at(U), at(T), optimize=optimize) == 9.2  # the section U→T, not round by A
    assert await km(triangle(), at(A), at(T), optimize=optimize) == 7.0  # was 422 "no road connects"
    with pytest.raises(Unroutable, match="no road connects"):  # T is a dead end: never out against a one-way
        await km(triangle(), at(T), at(U), optimize=optimize)


async def test_a_closure_on_a_section_at_the_origin_blocks_only_that_section() -> None:
    closed = event("au", type="closure", road="S3", direction="both", start_stake_m=1_000.0, end_stake_m=2_000.0,
                   description="S3封闭", geometry=None)
    assert await km([*triangle(), closed], at(U), at(T)) == 9.2  # was 422 "every route is closed"


@pytest.mark.parametrize(("start", "end", "expected"), [(0.3, 0.8, 5.0), (0.8, 0.3, 5.0), (0.0, 0.5, 5.0)])
async def test_two_points_on_one_section_are_joined_along_it(start: float, end: float, expected: float) -> None:
    line = [section("ab", [(113.0, 34.0), (113.1, 34.0)], road="S1", road_class="provincial", from_node="a",
                    to_node="b", end_stake_m=10_000.0, speed_kmh=60.0)]
    assert await km(line, f"{113.0 + start / 10},34.0", f"{113.0 + end / 10},34.0") == pytest.approx(expected, abs=0.01)


async def test_on_a_one_way_section_the_second_point_behind_the_first_is_reached_round_the_loop() -> None:
    # ab (one-way a→b) of 10 km, and back from b to a by c on two-way roads of 8 + 8 km
    loop = [section("ab", [(113.0, 34.0), (113.1, 34.0)], road="S1", road_class="provincial", from_node="a",
                    to_node="b", end_stake_m=10_000.0, speed_kmh=60.0, oneway=True),
            section("bc", [(113.1, 34.0), (113.05, 34.05)], road="S2", road_class="provincial", from_node="b",
                    to_node="c", end_stake_m=8_000.0, speed_kmh=60.0),
            section("ca", [(113.05, 34.05), (113.0, 34.0)], road="S2", road_class="provincial", from_node="c",
                    to_node="a", end_stake_m=8_000.0, speed_kmh=60.0)]
    assert await km(loop, "113.08,34.0", "113.03,34.0") == pytest.approx(2.0 + 16.0 + 3.0, abs=0.01)


def test_a_ban_holds_at_its_via_node_only_and_the_older_form_at_every_shared_node() -> None:
    # two sections between the same two nodes: a ban with a via node holds there, a plain id at both
    parallel = [section("p", [(113.0, 34.0), (113.1, 34.0)], from_node="x", to_node="y",
                        banned_turns=[{"to": "geodata:q", "via": "y"}, "geodata:p"]),
                section("q", [(113.0, 34.0), (113.05, 34.01), (113.1, 34.0)], from_node="x", to_node="y")]
    network = RoadNetwork(parallel, landmarks=2)
    p, q, x, y = network.position["geodata:p"], network.position["geodata:q"], network.node_number["x"], \
        network.node_number["y"]
    assert sorted(network.base.banned_turns) == [(p, x, p), (p, y, p), (p, y, q)]


async def test_a_waypoints_own_section_obeys_the_turn_bans_off_it() -> None:
    # from the middle of ab, B→C may not be entered from ab at b: round the top, though bc is straight on
    banned = square(ab={"banned_turns": [{"to": "geodata:bc", "via": "b"}]})
    body = await planner_over(banned).plan(request("113.05,34.0", "113.24,34.0"))
    assert "S2" in body["routes"][0]["roads"]
    body = await planner_over(banned).plan(request("113.24,34.0", "113.05,34.0"))  # the other way is free
    assert body["routes"][0]["roads"] == ["S3", "S1"]


async def test_a_waypoints_own_section_obeys_the_vehicles_limits() -> None:
    low = square(ab={"restrictions": Restrictions(max_height_m=3.5)})
    assert await km(low, "113.05,34.0", "113.24,34.0") > 0
    with pytest.raises(Unroutable, match="for this vehicle"):
        await planner_over(low).plan(request("113.05,34.0", "113.24,34.0", cls=13, height_m=4.0))


async def test_a_via_point_on_the_same_section_joins_straight_legs() -> None:
    line = [section("ab", [(113.0, 34.0), (113.1, 34.0)], road="S1", road_class="provincial", from_node="a",
                    to_node="b", end_stake_m=10_000.0, speed_kmh=60.0)]
    body = await planner_over(line).plan(request("113.01,34.0", "113.09,34.0", via=("113.05,34.0",)))
    assert body["routes"][0]["distance_km"] == pytest.approx(8.0, abs=0.01)
    assert body["routes"][0]["duration_min"] == pytest.approx(8.0, abs=0.1)
