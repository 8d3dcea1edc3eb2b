"""The read endpoints over loopback: filters, GeoJSON, ETags, CRS, and the 400s for bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import seed
from tests.factories import T0, event, poi
from travel.core.crs import gcj02_to_wgs84, wgs84_to_gcj02
from travel.core.geometry import Geometry
from travel.core.records import Alert, Facilities
from travel.core.spatial import haversine_m

XUCHANG = (113.85, 34.03)
ZHENGZHOU = (113.625, 34.747)


@pytest.fixture
async def client(app_client):  # noqa: ANN001, ANN201
    app = app_client.server.app
    await seed(app, [
        event("1", lon=XUCHANG[0], lat=XUCHANG[1] + 0.01, severity="major", type="closure"),
        event("2", lon=XUCHANG[0], lat=XUCHANG[1] + 0.05, road="G4", type="construction",
              end_stake_m=652000.0),
        event("3", lon=ZHENGZHOU[0], lat=ZHENGZHOU[1], road="G30", road_name="连霍高速", type="accident",
              updated_at=T0 + timedelta(hours=1)),
        event("4", lon=ZHENGZHOU[0], lat=ZHENGZHOU[1], road="G30", status="cleared"),
        event("5", source="lzc", lon=114.3, lat=34.8, road="G45", type="congestion", severity="minor"),
        poi("sa1", XUCHANG[0] + 0.01, XUCHANG[1], name="许昌服务区",
            facilities=Facilities(fuel=["92#", "95#"], ev_charging=True, food=True), open_status="open"),
        poi("ts1", XUCHANG[0], XUCHANG[1] - 0.02, kind="toll_station", name="许昌北"),
        poi("ts2", ZHENGZHOU[0], ZHENGZHOU[1], kind="toll_station", name="郑州站", road="G30"),
        poi("ic1", 113.9, 34.5, kind="interchange", name="郑州南互通", road="G4", roads=["G4", "S1"]),
    ])
    return app_client


async def ids(resp) -> list[str]:  # noqa: ANN001
    assert resp.status == 200, await resp.text()
    body = await resp.json(content_type=None)
    assert body["type"] == "FeatureCollection"
    assert body["count"] == len(body["features"])
    return [f["id"] for f in body["features"]]


async def test_events_default_to_active_newest_first(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/events")
    assert resp.headers["Content-Type"].startswith("application/geo+json")
    assert await ids(resp) == ["gsj:3", "gsj:1", "gsj:2", "lzc:5"]


async def test_event_feature_carries_the_contract_fields(client) -> None:  # noqa: ANN001
    body = await (await client.get("/v1/events", params={"road": "G4", "type": "construction"})).json(content_type=None)
    [feature] = body["features"]
    props = feature["properties"]
    assert feature["geometry"]["type"] == "Point"
    for key in ("id", "type", "severity", "road", "road_name", "direction", "stake_range", "description",
                "start_time", "expected_end", "status", "source", "version", "updated_at"):
        assert key in props, key
    assert props["stake_range"] == "K650+200–K652+000"
    assert props["active"] is True


@pytest.mark.parametrize(("params", "expected"), [
    ({"road": "G30"}, {"gsj:3"}),
    ({"road": "G30", "active": "all"}, {"gsj:3", "gsj:4"}),
    ({"active": "false"}, {"gsj:4"}),
    ({"type": "closure,accident"}, {"gsj:1", "gsj:3"}),
    ({"severity": "minor"}, {"lzc:5"}),
    ({"source": "lzc"}, {"lzc:5"}),
    ({"bbox": "113.5,34.6,113.7,34.9"}, {"gsj:3"}),
    ({"bbox": "113.5,33.9,114.0,34.1", "type": "closure"}, {"gsj:1"}),
])
async def test_event_filters(client, params, expected) -> None:  # noqa: ANN001
    assert set(await ids(await client.get("/v1/events", params=params))) == expected


async def test_near_is_metric_and_sorted_with_distances(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/events", params={"near": f"{XUCHANG[0]},{XUCHANG[1]}", "radius_m": "6000"})
    body = await resp.json(content_type=None)
    assert [f["id"] for f in body["features"]] == ["gsj:1", "gsj:2"]
    d = [f["properties"]["distance_m"] for f in body["features"]]
    assert d[0] == pytest.approx(haversine_m(*XUCHANG, XUCHANG[0], XUCHANG[1] + 0.01), abs=1)
    assert d[0] < d[1] <= 6000
    near2 = await client.get("/v1/events", params={"near": f"{XUCHANG[0]},{XUCHANG[1]}", "radius_m": "2000"})
    assert await ids(near2) == ["gsj:1"]


@pytest.mark.parametrize(("path", "params", "expected"), [
    ("/v1/events", {"type": "construction"}, ["gsj:2"]),  # the nearer one is filtered out
    ("/v1/events", {"active": "all", "limit": "1"}, ["gsj:1"]),  # the nearest kept, then the limit stops
    ("/v1/pois", {"kind": "toll_station"}, ["geodata:ts1"]),
    ("/v1/pois", {"road": "G4", "limit": "1"}, ["geodata:sa1"]),
])
async def test_near_with_filters_keeps_order_and_distances(client, path, params, expected) -> None:  # noqa: ANN001
    near = {"near": f"{XUCHANG[0]},{XUCHANG[1]}", "radius_m": "6000"}
    body = await (await client.get(path, params={**near, **params})).json(content_type=None)
    assert [f["id"] for f in body["features"]] == expected
    assert all(0 <= f["properties"]["distance_m"] <= 6000 for f in body["features"])


async def test_since_returns_only_later_changes(client) -> None:  # noqa: ANN001
    app = client.server.app
    body = await (await client.get("/v1/events", params={"active": "all"})).json(content_type=None)
    mark = max(f["properties"]["ingested_at"] for f in body["features"])
    await seed(app, [event("1", version=2, lon=XUCHANG[0], lat=XUCHANG[1] + 0.01, status="cleared")])
    later = await client.get("/v1/events", params={"since": mark, "active": "all"})
    assert await ids(later) == ["gsj:1"]


async def test_limit(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/events", params={"limit": "2"})
    body = await resp.json(content_type=None)
    assert len(body["features"]) == 2 and body["limit"] == 2


async def test_crs_gcj02_converts_both_ways(client) -> None:  # noqa: ANN001
    gx, gy = wgs84_to_gcj02(*ZHENGZHOU)
    resp = await client.get("/v1/pois", params={"near": f"{gx},{gy}", "radius_m": "100", "crs": "gcj02"})
    body = await resp.json(content_type=None)
    [feature] = body["features"]
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((gx, gy), abs=1e-6)
    back = gcj02_to_wgs84(lon, lat)
    assert haversine_m(*back, *ZHENGZHOU) < 0.5
    bd = await client.get("/v1/pois", params={"q": "郑州站", "crs": "bd09"})
    [bd_feature] = (await bd.json(content_type=None))["features"]
    assert bd_feature["geometry"]["coordinates"][0] > gx  # BD-09 lies further east of GCJ-02


async def test_event_by_id_with_history(client) -> None:  # noqa: ANN001
    app = client.server.app
    await seed(app, [event("2", version=2, severity="severe", lon=XUCHANG[0], lat=XUCHANG[1] + 0.05)])
    resp = await client.get("/v1/events/gsj:2")
    assert resp.status == 200
    body = await resp.json(content_type=None)
    assert body["type"] == "Feature" and body["id"] == "gsj:2"
    assert body["properties"]["severity"] == "severe"
    assert [v["version"] for v in body["properties"]["history"]] == [1, 2]
    missing = await client.get("/v1/events/gsj:404")
    assert missing.status == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(("params", "expected"), [
    ({"kind": "toll_station"}, {"geodata:ts1", "geodata:ts2"}),
    ({"kind": "service_area,interchange"}, {"geodata:sa1", "geodata:ic1"}),
    ({"q": "许昌"}, {"geodata:sa1", "geodata:ts1"}),
    ({"road": "S1"}, {"geodata:ic1"}),
    ({"road": "G30"}, {"geodata:ts2"}),
    ({"open_status": "open"}, {"geodata:sa1"}),
])
async def test_poi_filters(client, params, expected) -> None:  # noqa: ANN001
    assert set(await ids(await client.get("/v1/pois", params=params))) == expected


async def test_service_area_carries_facilities_and_status(client) -> None:  # noqa: ANN001
    body = await (await client.get("/v1/pois", params={"kind": "service_area"})).json(content_type=None)
    props = body["features"][0]["properties"]
    assert props["facilities"]["ev_charging"] is True and props["facilities"]["fuel"] == ["92#", "95#"]
    assert props["open_status"] == "open"


async def test_etag_and_conditional_get(client) -> None:  # noqa: ANN001
    first = await client.get("/v1/pois")
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = await client.get("/v1/pois", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    other_query = await client.get("/v1/pois", params={"kind": "toll_station"}, headers={"If-None-Match": etag})
    assert other_query.status == 200
    await seed(client.server.app, [poi("ts3", 114.0, 34.0, kind="toll_station", name="长葛")])
    changed = await client.get("/v1/pois", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize(("path", "params", "param"), [
    ("/v1/events", {"colour": "red"}, "colour"),
    ("/v1/events", {"bbox": "114,34,113,35"}, "bbox"),
    ("/v1/events", {"bbox": "113,35,114,34"}, "bbox"),
    ("/v1/events", {"bbox": "113,34,114"}, "bbox"),
    ("/v1/events", {"bbox": "113,34,nan,35"}, "bbox"),
    ("/v1/events", {"bbox": "113,34,190,35"}, "bbox"),
    ("/v1/events", {"near": "113.6,95"}, "near"),
    ("/v1/events", {"near": "abc,def"}, "near"),
    ("/v1/events", {"near": "113.6,34.7", "radius_m": "-5"}, "radius_m"),
    ("/v1/events", {"near": "113.6,34.7", "radius_m": "1e9"}, "radius_m"),
    ("/v1/events", {"radius_m": "500"}, "radius_m"),
    ("/v1/events", {"near": "113.6,34.7", "bbox": "113,34,114,35"}, "bbox"),
    ("/v1/events", {"type": "meteor"}, "type"),
    ("/v1/events", {"severity": "huge"}, "severity"),
    ("/v1/events", {"road": "G4; DROP TABLE"}, "road"),
    ("/v1/events", {"active": "maybe"}, "active"),
    ("/v1/events", {"since": "2026-11-24T08:00:00"}, "since"),
    ("/v1/events", {"limit": "0"}, "limit"),
    ("/v1/events", {"crs": "epsg3857"}, "crs"),
    ("/v1/events", {"near": "2.35,48.85", "crs": "gcj02"}, "near"),
    ("/v1/pois", {"bbox": "2,48,3,49", "crs": "bd09"}, "bbox"),
    ("/v1/pois", {"kind": "castle"}, "kind"),
    ("/v1/pois", {"q": ""}, "q"),
])
async def test_bad_parameters_are_400_problems_naming_the_parameter(client, path, params, param) -> None:  # noqa: ANN001
    resp = await client.get(path, params=params)
    assert resp.status == 400
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    body = await resp.json(content_type=None)
    assert body["status"] == 400 and body["param"] == param, body
    assert param in body["detail"]


async def test_repeated_parameter_is_refused(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/events?road=G4&road=G30")
    body = await resp.json(content_type=None)
    assert resp.status == 400 and body["param"] == "road"


async def test_unknown_path_and_method_are_problems(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/nothing")
    assert resp.status == 404 and resp.headers["Content-Type"].startswith("application/problem+json")
    resp = await client.delete("/v1/events")
    assert resp.status == 405 and (await resp.json(content_type=None))["status"] == 405


async def test_cors(client) -> None:  # noqa: ANN001
    resp = await client.options("/v1/events", headers={
        "Origin": "https://www.hncd.gov.cn", "Access-Control-Request-Method": "GET"})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]
    plain = await client.get("/v1/events", headers={"Origin": "https://www.hncd.gov.cn"})
    assert plain.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in plain.headers["Access-Control-Expose-Headers"]


async def test_event_times_are_aware_and_ordered(client) -> None:  # noqa: ANN001
    body = await (await client.get("/v1/events")).json(content_type=None)
    stamps = [f["properties"]["updated_at"] for f in body["features"]]
    assert all(s.endswith("Z") or "+" in s for s in stamps)
    assert stamps == sorted(stamps, reverse=True)


async def test_a_plain_alerts_query_judges_expiry_at_each_request(app_client) -> None:  # noqa: ANN001
    """An alert leaves the list when it expires, also for a plain query and for a revalidation."""
    now = datetime.now(UTC)
    alert = Alert(id="cma:fog", source="cma", source_id="fog", version=1, updated_at=now, identifier="fog",
                  sender="cma", sent=now, event="大雾", expires=now + timedelta(seconds=1.5),
                  geometry=Geometry.point(*XUCHANG))
    await seed(app_client.server.app, [alert])
    near = {"near": f"{XUCHANG[0]},{XUCHANG[1]}", "radius_m": "1000"}
    before = await app_client.get("/v1/alerts", params=near)
    assert await ids(before) == ["cma:fog"]
    await asyncio.sleep(max(0.0, (alert.expires - datetime.now(UTC)).total_seconds()) + 0.1)
    # Nothing changed but the time: a revalidation must not be told "not modified".
    after = await app_client.get("/v1/alerts", params=near, headers={"If-None-Match": before.headers["ETag"]})
    assert await ids(after) == []
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize("path", ["/v1/pois?near=113.85,34.03&radius_m=5000", "/v1/events", "/v1/events/gsj:1",
                                  "/healthz", "/openapi.json"])
async def test_head_answers_what_get_would_without_the_body(client, path: str) -> None:  # noqa: ANN001
    got, head = await client.get(path), await client.head(path)
    body = await got.read()
    assert head.status == got.status == 200
    assert await head.read() == b""
    assert int(head.headers["Content-Length"]) == len(body) > 0
    for name in ("Content-Type", "ETag", "Cache-Control"):
        assert head.headers.get(name) == got.headers.get(name), name
    text = await (await client.get("/metrics")).text()
    assert 'travel_http_requests_total{method="HEAD",' in text
