"""The toll endpoints over HTTP on the bundled data: quotes, classes, notices, bad input, live changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter

from api.app import create_app
from api.keys import BUS, FEEDS, READ_MODEL, STORE
from tests.conftest import wait_ready
from tests.factories import event
from travel.core.records import EventStatus, Kind, SourceConfig
from travel.core.settings import Settings
from travel.ingest.commit import commit
from travel.ingest.importer import import_file
from travel.ingest.signing import signed_headers
from travel.tolls.answer import QuoteOut

SECRET = b"toll-notices-secret"
ZHENGZHOU_LUOYANG = {"from": "郑州收费站", "to": "洛阳收费站", "at": "2026-11-24T10:00:00+08:00"}


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path, load_geodata=True))
    app[FEEDS].sources.extend([SourceConfig(id="hn-toll-notices", agency="河南省交通运输厅", format="geojson",
                                            push=True, secret=SECRET.decode(), kinds=[Kind.TOLL_NOTICE])])
    c = await aiohttp_client(app)
    await wait_ready(app)
    return c


async def quote(client: TestClient, **params: str) -> tuple[int, dict]:
    response = await client.get("/v1/tolls/quote", params={**ZHENGZHOU_LUOYANG, **params})
    return response.status, await response.json(content_type=None)


async def test_a_quote_shows_its_working_in_the_documented_shape(client: TestClient) -> None:
    status, body = await quote(client, vehicle_class="13", payment="cash")
    assert status == 200
    TypeAdapter(QuoteOut).validate_python(body)
    assert body["vehicle_class"] == {"code": 13, "name": "三类货车", "kind": "truck"}
    assert body["at"] == "2026-11-24T10:00:00+08:00" and body["rule_version"] == "henan-2020.1"
    assert body["amount_fen"] % 100 == 0 and body["amount_yuan"] == body["amount_fen"] / 100
    assert body["rules"]["verified"] is False and "G30" in {s["road"] for s in body["sections"]}


async def test_gcj02_positions_come_back_in_gcj02(client: TestClient) -> None:
    _, wgs = await quote(client)
    _, gcj = await quote(client, crs="gcj02")
    assert gcj["from"]["station"]["lon"] != wgs["from"]["station"]["lon"]
    assert gcj["amount_fen"] == wgs["amount_fen"]


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"vehicle_class": "5"}, 400, "valid codes: 1–4 (客车), 11–16 (货车), 21–26 (专项作业车)"),
    ({"vehicle_class": "17"}, 400, "valid codes: 1–4"),
    ({"at": "2026-10-01T10:00:00"}, 400, "has no UTC offset"),
    ({"at": "yesterday"}, 400, "not an ISO 8601 time; e.g. 2026-10-01T08:00:00+08:00"),
    ({"payment": "alipay"}, 400, "payment"),
    ({"policy": "holiday_free"}, 400, "cannot be declared"),
    ({"to": "郑州收费站"}, 422, "same"),
    ({"to": "116.0,31.0"}, 422, "the nearest is"),
    ({"seats": "20"}, 400, "does not fit 一类客车"),
])
async def test_bad_requests_are_problems_that_say_why(client: TestClient, params: dict[str, str], status: int,
                                                      words: str) -> None:
    got, body = await quote(client, **params)
    assert got == status and words in body["detail"], body


async def test_holiday_quotes_for_small_cars_are_free_and_say_why(client: TestClient) -> None:
    holiday = {"at": "2026-10-03T09:00:00+08:00"}
    _, five = await quote(client, seats="5", **holiday)
    assert five["amount_fen"] == 0 and five["policies"][0]["document"] == "国发〔2012〕37号"
    _, nine = await quote(client, seats="9", **holiday)
    _, normal = await quote(client, seats="9")
    assert nine["amount_fen"] == normal["amount_fen"] > 0 and nine["not_applied"]


async def test_classify_explains_the_rule(client: TestClient) -> None:
    response = await client.get("/v1/tolls/classify", params={"kind": "passenger", "seats": "9", "length_m": "5.2"})
    body = await response.json()
    assert response.status == 200 and body["vehicle_class"]["name"] == "一类客车" and "9人" in body["rule"]
    response = await client.get("/v1/tolls/classify", params={"kind": "truck"})
    assert response.status == 400 and (await response.json())["param"] == "axles"


async def test_notices_list_what_is_in_force_and_coming(client: TestClient) -> None:
    response = await client.get("/v1/tolls/notices", params={"at": "2026-09-20T00:00:00+08:00"})
    body = await response.json()
    states = {n["notice"]["id"]: n["state"] for n in body["notices"]}
    assert states["geodata:green-channel"] == "active" and states["geodata:holiday-2026-national"] == "upcoming"
    assert states["geodata:harvester-2026-autumn"] == "active" and "geodata:holiday-2025-spring" not in states
    response = await client.get("/v1/tolls/notices", params={"state": "all", "policy": "holiday_free"})
    assert {n["notice"]["policy"] for n in (await response.json())["notices"]} == {"holiday_free"}


async def test_a_pushed_notice_changes_the_next_quote(client: TestClient) -> None:
    _, before = await quote(client)
    notice = {"type": "FeatureCollection", "kind": "toll_notice", "features": [{
        "type": "Feature", "id": "2026-g30-free", "geometry": None, "properties": {
            "policy": "exemption", "title": "连霍高速郑州至洛阳段免费通行（测试）", "roads": ["G30"],
            "starts_at": "2026-11-24T00:00:00+08:00", "ends_at": "2026-11-25T00:00:00+08:00",
            "updated_at": "2026-11-23T12:00:00+08:00"}}]}
    body = orjson.dumps(notice)
    response = await client.post("/v1/ingest/hn-toll-notices", data=body,
                                 headers={"Content-Type": "application/geo+json", **signed_headers(SECRET, body)})
    assert response.status == 202, await response.text()
    for _ in range(100):
        _, after = await quote(client)
        if after["amount_fen"] != before["amount_fen"]:
            break
        await asyncio.sleep(0.02)
    g30 = [s for s in after["sections"] if s["road"] == "G30"]
    assert g30 and all(s["amount_fen"] == 0 for s in g30)
    assert after["policies"][0]["id"] == "hn-toll-notices:2026-g30-free"


async def test_a_committed_closure_reroutes_the_next_quote_even_with_the_same_question(client: TestClient) -> None:
    _, before = await quote(client)
    app = client.server.app
    closure = event("g30-gongyi", type="closure", severity="severe", road="G30", road_name="连霍高速",
                    direction="both", start_stake_m=600_000.0, end_stake_m=620_000.0, geometry=None,
                    description="连霍高速巩义段交通事故，双向封闭")
    await commit(app[STORE], app[BUS], [closure])
    for _ in range(100):
        _, during = await quote(client)
        if during["sections"] != before["sections"]:
            break
        await asyncio.sleep(0.02)
    assert during["amount_fen"] != before["amount_fen"] and during["from"] == before["from"]
    await commit(app[STORE], app[BUS], [closure.model_copy(update={"version": 2, "status": EventStatus.CLEARED})])
    for _ in range(100):
        _, after = await quote(client)
        if after["sections"] == before["sections"]:
            break
        await asyncio.sleep(0.02)
    assert after == before


async def test_a_question_without_at_is_judged_at_the_time_it_is_asked_each_time(client: TestClient) -> None:
    params = {"from": "郑州收费站", "to": "洛阳收费站", "vehicle_class": "12"}
    bodies = []
    for _ in range(2):
        response = await client.get("/v1/tolls/quote", params=params)
        assert response.headers["Cache-Control"] == "public, max-age=0"
        bodies.append(await response.json())
        await asyncio.sleep(0.01)
    first, second = (datetime.fromisoformat(b.pop("at")) for b in bodies)
    assert first < second and abs(datetime.now(UTC) - second) < timedelta(seconds=5)
    assert bodies[0] == bodies[1]


async def test_an_imported_rate_table_changes_the_next_quote(client: TestClient, tmp_path: Path) -> None:
    _, before = await quote(client)
    section = before["sections"][0]["id"].removeprefix("geodata:")
    table = tmp_path / "toll_rates.csv"
    table.write_text("id,toll_section,vehicle_class,fen_per_km,effective_from,updated_at\n"
                     f"rate-{section.removeprefix('tsec-')}-1,{section},1,99,2020-01-01T00:00:00+08:00,"
                     "2026-11-24T09:00:00+08:00\n", encoding="utf-8")
    app = client.server.app
    await import_file(app[STORE], app[BUS], Kind.TOLL_RATE, table)
    rates = app[READ_MODEL].view(Kind.TOLL_RATE).records
    for _ in range(100):
        if rates[f"geodata:rate-{section.removeprefix('tsec-')}-1"].fen_per_km == 99:
            break
        await asyncio.sleep(0.02)
    _, after = await quote(client)
    assert after["sections"][0]["fen_per_km"] == 99 and after["amount_fen"] > before["amount_fen"]


async def test_the_quote_is_in_the_openapi_document(client: TestClient) -> None:
    spec = await (await client.get("/openapi.json")).json()
    params = {p["name"] for p in spec["paths"]["/v1/tolls/quote"]["get"]["parameters"]}
    assert {"from", "to", "vehicle_class", "payment", "at", "seats", "policy", "crs"} <= params
    assert "QuoteOut" in spec["components"]["schemas"]


async def test_an_unknown_parameter_lists_the_known_ones_as_they_are_spelt(client: TestClient) -> None:
    status, body = await quote(client, origin="郑州")
    assert status == 400 and "unknown parameter 'origin'" in body["detail"]
    assert "from, geometry" in body["detail"] and "to, vehicle_class" in body["detail"]
