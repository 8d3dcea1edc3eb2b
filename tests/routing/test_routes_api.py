"""GET /v1/routes on the bundled network: real routes, live closures and their clearance, vehicles, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter

from api.app import create_app
from api.keys import BUS, READ_MODEL, STORE
from tests.conftest import seed, wait_ready
from tests.factories import event, section
from tests.services import postgis_database, redis_url
from travel.core.records import EventStatus, Kind, Restrictions, RoadSection
from travel.core.settings import Settings
from travel.ingest.commit import commit
from travel.routing.answer import RoutesOut

DEPART = "2026-11-24T09:00:00+08:00"
# G30 between 郑州北 (K561) and 洛阳 (K672): a closure from K600 to K620 cuts the direct way
G30_CLOSURE = dict(type="closure", severity="severe", road="G30", road_name="连霍高速", direction="both",
                   start_stake_m=600_000.0, end_stake_m=620_000.0, description="连霍高速巩义段交通事故，双向封闭",
                   geometry=None)


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path, load_geodata=True))
    c = await aiohttp_client(app)
    await wait_ready(app)
    return c


async def routes(client: TestClient, **params: str) -> tuple[int, dict[str, Any]]:
    response = await client.get("/v1/routes", params={"depart_at": DEPART, **params})
    return response.status, await response.json(content_type=None)


async def test_zhengzhou_to_luoyang_goes_by_g30_with_toll_instructions_and_service_areas(client: TestClient) -> None:
    status, body = await routes(client, **{"from": "郑州", "to": "洛阳", "alternatives": "1"})
    assert status == 200, body
    TypeAdapter(RoutesOut).validate_python(body)
    best = body["routes"][0]
    assert "G30" in best["roads"] and 100 < best["distance_km"] < 160 and 60 < best["duration_min"] < 150
    assert any(step["text"].startswith("在") and "G30连霍高速" in step["text"] for step in best["instructions"])
    assert best["instructions"][0]["text"].startswith("从郑州市出发")
    assert best["instructions"][-1]["text"] == "到达洛阳市"
    assert all(s["from_stake"].startswith("K") for s in best["instructions"][:-1])
    assert best["toll"]["amount_fen"] > 0 and best["toll"]["sections"][0]["road"] == "G30"
    assert "巩义服务区" in [s["name"] for s in best["service_areas"]]
    assert best["geometry"]["type"] == "LineString" and len(best["geometry"]["coordinates"]) > 10


async def test_a_closure_reroutes_at_once_names_itself_and_its_clearance_restores_the_route(
        client: TestClient) -> None:
    _, before = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    direct = before["routes"][0]
    assert direct["roads"] == ["G30"]
    closure = event("g30-gongyi", **G30_CLOSURE)
    await seed(client.server.app, [closure])  # returns once the read model has applied it
    _, after = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    detour = after["routes"][0]
    assert detour["duration_min"] > direct["duration_min"]
    assert "gsj:g30-gongyi" in [c["id"] for c in detour["closures_avoided"]]
    assert "巩义段交通事故" in detour["closures_avoided"][0]["text"]
    await seed(client.server.app, [closure.model_copy(update={"version": 2, "status": EventStatus.CLEARED})])
    _, cleared = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    assert cleared["routes"][0]["roads"] == ["G30"] and not cleared["routes"][0]["closures_avoided"]


async def test_congestion_slows_the_sections_it_is_on(client: TestClient) -> None:
    _, before = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    jam = event("jam", type="congestion", severity="major", road="G30", start_stake_m=590_000.0,
                end_stake_m=600_000.0, description="连霍高速车多缓行", reduced_speed_kmh=80.0, geometry=None)
    await seed(client.server.app, [jam])
    _, after = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    best = after["routes"][0]
    assert best["duration_min"] > before["routes"][0]["duration_min"]
    assert [e["id"] for e in best["events"]] == ["gsj:jam"] and "倍" in best["events"][0]["effect"]


async def test_traffic_control_keeps_heavy_trucks_off_but_not_cars(client: TestClient) -> None:
    control = event("weight", type="control", severity="major", road="G30", start_stake_m=600_000.0,
                    end_stake_m=620_000.0, description="连霍高速巩义段限重10吨", geometry=None,
                    restrictions=Restrictions(max_weight_t=10.0))
    await seed(client.server.app, [control])
    _, car = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站"})
    _, truck = await routes(client, **{"from": "郑州北收费站", "to": "洛阳收费站", "vehicle_class": "15"})
    assert car["routes"][0]["roads"] == ["G30"]
    assert truck["routes"][0]["roads"] != ["G30"]
    assert truck["routes"][0]["duration_min"] > car["routes"][0]["duration_min"]


async def test_optimize_and_avoid_change_the_route(client: TestClient) -> None:
    _, fastest = await routes(client, **{"from": "郑州", "to": "洛阳"})
    _, cheapest = await routes(client, **{"from": "郑州", "to": "洛阳", "optimize": "cheapest"})
    _, no_tolls = await routes(client, **{"from": "郑州", "to": "洛阳", "avoid": "closures,tolls"})
    _, shortest = await routes(client, **{"from": "郑州", "to": "洛阳", "optimize": "shortest"})
    assert cheapest["routes"][0]["toll"]["amount_fen"] <= fastest["routes"][0]["toll"]["amount_fen"]
    assert no_tolls["routes"][0]["toll"]["amount_fen"] == 0 and "G30" not in no_tolls["routes"][0]["roads"]
    assert shortest["routes"][0]["distance_km"] <= fastest["routes"][0]["distance_km"]
    assert fastest["routes"][0]["duration_min"] <= no_tolls["routes"][0]["duration_min"]


async def test_alternatives_are_different_routes_and_via_points_are_visited(client: TestClient) -> None:
    _, body = await routes(client, **{"from": "郑州收费站", "to": "南阳", "alternatives": "2"})
    found = body["routes"]
    assert len(found) >= 2 and len({tuple(r["roads"]) for r in found}) == len(found)
    _, via = await routes(client, **{"from": "郑州", "to": "洛阳", "via": "开封"})
    assert via["via"][0]["place"]["name"] == "开封市"
    assert via["routes"][0]["distance_km"] > 200


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"via": "开封;许昌;新乡;焦作;洛阳;南阳"}, 400, "via"),
    ({"alternatives": "4"}, 400, "alternatives"),
    ({"vehicle_class": "7"}, 400, "valid codes"),
    ({"to": "116.5,31.45"}, 422, "from any road"),
    ({"to": "G4"}, 422, "not a point"),
    ({"depart_at": "2026-11-24T09:00"}, 400, "UTC offset"),
])
async def test_bad_requests_say_why(client: TestClient, params: dict[str, str], status: int, words: str) -> None:
    got, body = await routes(client, **{"from": "郑州", "to": "洛阳", **params})
    assert got == status and words in body["detail"], body


async def test_a_place_cut_off_by_closures_is_422_with_the_nearest_reachable_place(client: TestClient) -> None:
    app = client.server.app
    g30 = next(r for r in app[READ_MODEL].view(Kind.ROAD_SECTION).records.values()
               if isinstance(r, RoadSection) and r.road == "G30" and r.to_node.endswith("luoyang"))
    x, y = g30.geometry.coordinates[-1]
    spur = section("spur", [(x, y), (x, y + 0.05)], road="S98", road_name="测试支线", road_class="provincial",
                   from_node=g30.to_node, to_node="spur-end", start_stake_m=0.0, end_stake_m=5_500.0, toll=False)
    closure = event("spur-closed", type="closure", severity="severe", road="S98", start_stake_m=1_000.0,
                    end_stake_m=2_000.0, description="测试支线塌方封闭", geometry=None)
    await seed(app, [spur, closure])
    status, body = await routes(client, **{"from": "郑州北收费站", "to": f"{x},{y + 0.05}"})
    assert status == 422 and "closed now" in body["detail"] and "测试支线塌方封闭" in body["detail"]
    nearest = body["nearest_reachable"]
    assert nearest["name"] and nearest["distance_km"] < 20


async def test_an_island_is_unroutable_and_says_no_road_connects(client: TestClient) -> None:
    island = section("island", [(111.0, 33.0), (111.05, 33.0)], road="S99", road_name="测试孤岛路",
                     road_class="provincial")
    await seed(client.server.app, [island])
    status, body = await routes(client, **{"from": "111.02,33.0", "to": "郑州"})
    assert status == 422 and "no road connects" in body["detail"]


async def test_a_closure_committed_by_one_process_reroutes_another_within_a_second(aiohttp_client,  # noqa: ANN001
                                                                                    tmp_path: Path) -> None:
    async with postgis_database() as dsn, redis_url() as (url, prefix):
        settings = Settings(database_url=dsn, redis_url=url, redis_stream=f"{prefix}:changes", data_dir=tmp_path)
        first = create_app(settings)
        await aiohttp_client(first)
        await wait_ready(first)
        second = create_app(settings.model_copy(update={"load_geodata": False}))
        client = await aiohttp_client(second)
        await wait_ready(second)
        ask = {"from": "郑州北收费站", "to": "洛阳收费站"}
        assert (await routes(client, **ask))[1]["routes"][0]["roads"] == ["G30"]
        await commit(first[STORE], first[BUS], [event("g30-gongyi", **G30_CLOSURE)])

        async def rerouted() -> None:
            while (await routes(client, **ask))[1]["routes"][0]["roads"] == ["G30"]:
                await asyncio.sleep(0.02)

        # A hang guard, not a timing (freshness is measured by `python -m bench feeds`).
        await asyncio.wait_for(rerouted(), 15)
