"""The planner on a small synthetic network: turn bans, one-way sections, section limits, snapping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.factories import event, section
from travel.core.records import Record, Restrictions, RoadSection
from travel.core.vehicle_classes import vehicle_class
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.network import RoadNetwork, Unroutable
from travel.routing.network_holder import NetworkHolder
from travel.routing.planner import Planner
from travel.routing.search import RouteRequest
from travel.tolls.book import TollBooks

DEPART = datetime(2026, 11, 24, 9, tzinfo=timezone(timedelta(hours=8)))
A, B, C = (113.0, 34.0), (113.1, 34.0), (113.2, 34.0)
D, E = (113.0, 34.1), (113.2, 34.1)
Z, Y = (112.95, 34.0), (113.25, 34.0)


def square(**changes: dict[str, Any]) -> list[RoadSection]:
    """A→B→C along the bottom (S1, 9.2 km each), A→D→E→C round the top (S2, longer); the route runs from a
    spur Z–A to a spur C–Y (S3), so every junction it may turn at lies between whole sections."""
    spec = {
        "za": ([Z, A], "S3", "z", "a", 0.0, 4_600.0),
        "cy": ([C, Y], "S3", "c", "y", 4_600.0, 9_200.0),
        "ab": ([A, B], "S1", "a", "b", 0.0, 9_200.0),
        "bc": ([B, C], "S1", "b", "c", 9_200.0, 18_400.0),
        "ad": ([A, D], "S2", "a", "d", 0.0, 11_100.0),
        "de": ([D, E], "S2", "d", "e", 11_100.0, 29_500.0),
        "ec": ([E, C], "S2", "e", "c", 29_500.0, 40_600.0),
    }
    out = []
    for name, (coords, road, a, b, start, end) in spec.items():
        data: dict[str, Any] = dict(road=road, road_name="测试公路", road_class="provincial", from_node=a, to_node=b,
                                    start_stake_m=start, end_stake_m=end, speed_kmh=80.0)
        data.update(changes.get(name, {}))
        out.append(section(name, data.pop("coords", coords), **data))
    return out


def planner_over(records: list[Record]) -> Planner:
    """A planner over ``records``, wired as ``create_app`` wires it."""
    model = ReadModel()
    model.apply(records)
    places = PlaceResolver(model)
    books = TollBooks(model, places)
    return Planner(model, NetworkHolder(model), books, places)


def request(origin: str, destination: str, cls: int = 1, **kw: Any) -> RouteRequest:
    """A request departing at DEPART."""
    return RouteRequest(origin=origin, destination=destination, vehicle_class=vehicle_class(cls), depart_at=DEPART,
                        **kw)


async def plan(records: list[RoadSection], cls: int = 1, **kw: Any) -> dict[str, Any]:
    return await planner_over(records).plan(request("112.96,34.0", "113.24,34.0", cls, **kw))


def driven(body: dict[str, Any]) -> list[str]:
    return body["routes"][0]["roads"]


async def test_the_direct_road_is_taken_when_nothing_stands_in_the_way() -> None:
    body = await plan(square())
    best = body["routes"][0]
    assert driven(body) == ["S3", "S1"] and best["distance_km"] == pytest.approx(25.76, abs=0.01)
    assert best["instructions"][0]["text"].startswith("从112.960000,34.000000出发，沿S3测试公路，向东行驶 3.7 公里")
    assert best["instructions"][1]["text"] == "在S1 K0+000处转S1测试公路，向东行驶 18 公里（K0+000—K18+400）"


async def test_a_banned_turn_at_the_junction_sends_the_route_round() -> None:
    body = await plan(square(ab={"banned_turns": ["geodata:bc"]}))
    assert driven(body) == ["S3", "S2"]  # round the top: from A it may not go on past B


async def test_one_way_sections_are_driven_only_their_way() -> None:
    reversed_bc = {"oneway": True, "from_node": "c", "to_node": "b", "coords": [C, B], "start_stake_m": 0.0,
                   "end_stake_m": 9_200.0}
    body = await plan(square(bc=reversed_bc))
    assert "S2" in driven(body)


async def test_section_limits_keep_trucks_off_but_not_cars() -> None:
    low = {"restrictions": Restrictions(max_height_m=3.5)}
    assert "S2" not in driven(await plan(square(ab=low)))
    assert "S2" in driven(await plan(square(ab=low), cls=13))
    assert "S2" not in driven(await plan(square(ab=low), cls=13, height_m=3.0))
    forbidden = {"restrictions": Restrictions(forbidden_classes=[11, 12, 13, 14, 15, 16])}
    assert "S2" in driven(await plan(square(bc=forbidden), cls=11))


async def test_points_far_from_every_road_name_the_distance() -> None:
    planner = planner_over(square())
    with pytest.raises(Unroutable, match="more than 10 km from any road; the nearest road is 2[0-9].[0-9] km away"):
        await planner.plan(request("113.1,34.3", "113.19,34.0"))


async def test_a_closure_in_one_direction_leaves_the_other_open() -> None:
    closure = event("ab-east", type="closure", road="S1", direction="increasing", start_stake_m=2_000.0,
                    end_stake_m=3_000.0, description="S1 A往B方向封闭", geometry=None)
    planner = planner_over([*square(), closure])
    east = await planner.plan(request("112.96,34.0", "113.24,34.0"))
    west = await planner.plan(request("113.24,34.0", "112.96,34.0"))
    avoided = [c["id"] for c in east["routes"][0]["closures_avoided"]]
    assert "S2" in east["routes"][0]["roads"] and avoided == ["gsj:ab-east"]
    assert west["routes"][0]["roads"] == ["S3", "S1"] and west["routes"][0]["events"][0]["id"] == "gsj:ab-east"


def test_the_engine_closes_and_reopens_each_direction_on_its_own() -> None:
    network = RoadNetwork(square())
    engine, ab = network.engine, network.position["geodata:ab"]
    a, b = int(network.base.section_from[ab]), int(network.base.section_to[ab])
    assert engine.route([(a, 0.0)], [(b, 0.0)]).sections.tolist() == [ab]
    engine.close_sections([ab], "forward")
    assert engine.route([(a, 0.0)], [(b, 0.0)]).sections.tolist() != [ab]
    assert engine.route([(b, 0.0)], [(a, 0.0)]).sections.tolist() == [ab]
    engine.close_sections([ab], "backward")
    engine.reopen_sections([ab], "forward")
    assert engine.route([(a, 0.0)], [(b, 0.0)]).sections.tolist() == [ab]
    assert engine.route([(b, 0.0)], [(a, 0.0)]).sections.tolist() != [ab]
    engine.reopen_sections([ab])
    assert int(engine.closed[ab]) == 0 and engine.route([(b, 0.0)], [(a, 0.0)]).sections.tolist() == [ab]
