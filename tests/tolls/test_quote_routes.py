"""A quote prices the route the planner would drive: the same route as /v1/routes, closures and all."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import event, section
from tests.tolls.tariffs import NOW, Served, ask, bundle, line, serve
from travel.core.records import Kind, OpenStatus, Poi, RoadSection
from travel.core.vehicle_classes import vehicle_class
from travel.routing.search import RouteRequest


def _fresh_bundle() -> Served:
    """The bundled data in a model of its own (these tests change it)."""
    return serve(r for view in bundle().model.views.values() for r in view.records.values())


def _route_toll(served: Served, origin: str, destination: str, cls: int) -> dict:
    request = RouteRequest(origin=origin, destination=destination, vehicle_class=vehicle_class(cls), depart_at=NOW)
    return asyncio.run(served.planner.plan(request))["routes"][0]


@pytest.mark.parametrize(("origin", "destination", "cls"), [
    ("郑州收费站", "洛阳收费站", 1),
    ("许昌收费站", "信阳收费站", 12),
    ("开封收费站", "商丘收费站", 3),
])
def test_a_quote_between_stations_pays_what_the_planned_route_pays(origin: str, destination: str, cls: int) -> None:
    served = bundle()
    q = ask(served, origin, destination, cls=cls)
    route = _route_toll(served, origin, destination, cls)
    assert q["amount_fen"] == route["toll"]["amount_fen"] > 0
    assert [s["id"] for s in q["sections"]] == [s["id"] for s in route["toll"]["sections"]]
    assert q["distance_km"] == pytest.approx(route["distance_km"], abs=0.5)


def test_a_closure_on_the_way_reroutes_the_quote_and_its_clearance_restores_it() -> None:
    served = _fresh_bundle()
    before = ask(served, "郑州收费站", "洛阳收费站", geometry=True)
    g30 = [s for s in before["sections"] if s["road"] == "G30"]
    middle = g30[len(g30) // 2]["id"]
    sections = served.model.view(Kind.ROAD_SECTION).records
    closed = next(r for r in sections.values() if isinstance(r, RoadSection)
                  and served.books.current().tariff.of_road_section.get(r.id) == middle)
    low, high = sorted((closed.start_stake_m, closed.end_stake_m))
    closure = event("g30-closed", type="closure", road="G30", road_name="连霍高速", direction="both",
                    start_stake_m=low + 100, end_stake_m=high - 100, description="连霍高速交通事故，双向封闭",
                    geometry=None)
    served.model.apply([closure])
    during = ask(served, "郑州收费站", "洛阳收费站", geometry=True)
    assert middle not in [s["id"] for s in during["sections"]]
    assert during["geometry"]["coordinates"] != before["geometry"]["coordinates"]
    assert during["trips"] == 1  # the detour stays on expressways: one trip, entered and left once
    served.model.apply([closure.model_copy(update={"version": 2, "status": "cleared"})])
    assert ask(served, "郑州收费站", "洛阳收费站")["sections"] == before["sections"]


def test_a_closure_with_no_toll_road_around_it_is_driven_on_a_free_road_and_charged_as_two_trips() -> None:
    free = section("bypass", [(113.1, 34.0), (113.15, 34.05), (113.2, 34.0)], road="G107",
                   road_name="国道107", road_class="national", from_node="n1", to_node="n2", start_stake_m=0.0,
                   end_stake_m=14_000.0, speed_kmh=60.0, toll=False)
    served = serve([*line([0, 10, 20, 30]), free])
    before = ask(served, "t:st0", "t:st3", payment="cash")
    assert before["trips"] == 1 and [s["id"] for s in before["sections"]] == ["t:ts0", "t:ts1", "t:ts2"]
    served.model.apply([event("s1-closed", type="closure", road="S1", road_name="测试高速", direction="both",
                              start_stake_m=12_000.0, end_stake_m=18_000.0, geometry=None,
                              description="测试高速双向封闭")])
    during = ask(served, "t:st0", "t:st3", payment="cash", geometry=True)
    assert during["trips"] == 2 and [s["id"] for s in during["sections"]] == ["t:ts0", "t:ts2"]
    assert during["amount_fen"] == 500 + 500  # each trip's 4.50 元 rounded to 5 元 on its own
    assert during["distance_km"] == 34.0 and any("分2次计费" in a for a in during["assumptions"])
    assert [113.15, 34.05] in during["geometry"]["coordinates"]


def test_a_city_side_skips_its_closed_stations_and_a_named_closed_station_says_so() -> None:
    served = _fresh_bundle()
    first = ask(served, "郑州", "南阳", cls=13)
    used = first["from"]["station"]["id"]
    station = served.model.view(Kind.POI).records[used]
    assert isinstance(station, Poi)
    closed = station.model_copy(update={"version": station.version + 1, "open_status": OpenStatus.CLOSED})
    served.model.apply([closed])
    again = ask(served, "郑州", "南阳", cls=13)
    assert again["from"]["station"]["id"] != used
    named = ask(served, used, "南阳收费站", cls=13)
    assert any("目前关闭" in a for a in named["assumptions"])
    assert named["from"]["station"]["closed"] is True
