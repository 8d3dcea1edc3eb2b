"""Every time an answer shows is written with the offset of the service's zone (TRAVEL_ZONE), the same instant.

One live app per zone (the default, Asia/Shanghai +08:00, and Asia/Urumqi +06:00), each answer kind
asked of it; every string of the answer that is an ISO 8601 date-time must carry the zone's offset.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from api.app import create_app
from api.keys import FEEDS, READ_MODEL
from tests.api.live import XUCHANG, fill
from tests.conftest import seed, wait_ready
from tests.factories import event
from tests.ingest.test_feeds_live import read_events
from travel.core.geometry import Geometry
from travel.core.records import Alert, Kind, SourceConfig
from travel.core.settings import Settings
from travel.core.zone import in_zone, shown
from travel.ingest.signing import signed_headers

IN_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the loop of the module's live apps

SECRET = b"zone-secret"
CAP = (Path(__file__).parents[1] / "feeds" / "fixtures" / "cap" / "zhengzhou_fog_yellow.xml").read_bytes()
AT = "2026-11-24T09:00:00+08:00"
NEAR = {"near": f"{XUCHANG[0]},{XUCHANG[1]}", "radius_m": "30000"}
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # how the API writes a time (never a bare date)
ANSWERS: list[tuple[str, dict[str, str]]] = [
    ("/v1/events", {"active": "all"}),
    ("/v1/events", {"active": "all", **NEAR}),
    ("/v1/events", {"active": "all", "crs": "gcj02"}),
    ("/v1/events/gsj:works", {}),
    ("/v1/alerts", {"active": "all"}),
    ("/v1/alerts/cma:fog", {"crs": "bd09"}),
    ("/v1/pois", {"limit": "50", **NEAR}),
    ("/v1/tolls/quote", {"from": "郑州", "to": "洛阳", "at": AT}),
    ("/v1/tolls/quote", {"from": "郑州北收费站", "to": "许昌收费站", "vehicle_class": "13"}),
    ("/v1/tolls/notices", {"state": "all"}),
    ("/v1/tolls/notices", {"state": "all", "at": AT}),
    ("/v1/routes", {"from": "许昌", "to": "郑州", "depart_at": AT}),
    ("/v1/routes", {"from": "郑州", "to": "洛阳", "alternatives": "1"}),
    ("/v1/sources", {}),
]
IDS = [f"{path}?" + "&".join(f"{k}={v}" for k, v in params.items()) for path, params in ANSWERS]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["default", "Asia/Urumqi"])
async def zoned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                ) -> AsyncIterator[tuple[TestClient, ZoneInfo]]:
    """A live app in the zone (and its zone), with events, alerts and a pushed CAP alert from a push source."""
    data_dir = tmp_path_factory.mktemp("zone") / "data"
    zone = {} if request.param == "default" else {"zone": request.param}
    settings = Settings(data_dir=data_dir, load_geodata=True, **zone)
    app = create_app(settings)
    app[FEEDS].sources.extend([SourceConfig(id="cap-push", agency="河南省气象台", format="cap", push=True,
                                            secret=SECRET.decode(), kinds=[Kind.ALERT])])
    async with TestClient(TestServer(app)) as client:
        await wait_ready(app, timeout=60.0)
        await fill(app)
        await seed(app, [haze()])
        pushed = await client.post("/v1/ingest/cap-push", data=CAP, headers={
            "Content-Type": "application/cap+xml", **signed_headers(SECRET, CAP)})
        assert pushed.status == 202, await pushed.text()
        yield client, settings.zone


def haze() -> Alert:
    """An alert in force over central Henan, so routes there show it with its expiry."""
    now = datetime.now(UTC)
    ring = [[112.5, 33.5], [114.5, 33.5], [114.5, 35.0], [112.5, 35.0], [112.5, 33.5]]
    return Alert(id="cma:haze", source="cma", source_id="haze", version=1, updated_at=now, identifier="haze",
                 sender="cma", sent=now, event="霾", colour="orange", headline="河南省气象台发布霾橙色预警",
                 effective=now, onset=now + timedelta(hours=1), expires=now + timedelta(days=1),
                 geometry=Geometry(type="Polygon", coordinates=[ring]))


def times_in(value: Any) -> Iterator[str]:
    """Every string of a JSON value, at any depth, that is an ISO 8601 date-time."""
    if isinstance(value, dict):
        for item in value.values():
            yield from times_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from times_in(item)
    elif isinstance(value, str) and DATE_TIME.match(value):
        yield value


def assert_in_zone(answer: Any, zone: ZoneInfo) -> list[datetime]:
    """Every time of ``answer`` carries ``zone``'s offset at its instant; returns them (there must be some)."""
    stamps = list(times_in(answer))
    assert stamps, "the answer shows no time to check"
    parsed = [datetime.fromisoformat(s) for s in stamps]
    wrong = [s for s, t in zip(stamps, parsed, strict=True) if t.utcoffset() != t.astimezone(zone).utcoffset()]
    assert not wrong, f"not in {zone.key}: {wrong[:5]}"
    return parsed


def test_the_default_zone_is_beijing_time_and_others_are_validated() -> None:
    assert Settings().zone == ZoneInfo("Asia/Shanghai")
    assert Settings(zone="Asia/Urumqi").zone.key == "Asia/Urumqi"
    for wrong in ("Mars/Olympus_Mons", "+08:00", ""):
        with pytest.raises(ValidationError, match="zone"):
            Settings(zone=wrong)


def test_the_zone_comes_from_travel_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAVEL_ZONE", "UTC")
    assert Settings().zone == ZoneInfo("UTC")


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30),  # noqa: DTZ001 - naive bounds
                    timezones=st.timezones()),
       st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Urumqi"), ZoneInfo("UTC"),
                        ZoneInfo("Europe/Berlin")]))
def test_a_shown_time_is_the_same_instant_with_the_zones_offset(at: datetime, zone: ZoneInfo) -> None:
    text = shown(at, zone)
    again = datetime.fromisoformat(text)
    assert again.astimezone(UTC) == at.astimezone(UTC)  # in UTC: a repeated wall time never equals another zone's
    assert again.utcoffset() == at.astimezone(zone).utcoffset()
    assert text == in_zone(event("x", updated_at=at), zone).model_dump(mode="json")["updated_at"]  # as records


@IN_MODULE_LOOP
@pytest.mark.parametrize(("path", "params"), ANSWERS, ids=IDS)
async def test_every_time_in_the_answer_carries_the_zone(zoned: tuple[TestClient, ZoneInfo], path: str,
                                                         params: dict[str, str]) -> None:
    client, zone = zoned
    for _ in range(2):  # the second time from the caches: the features' bytes, a quote's body
        response = await client.get(path, params=params)
        assert response.status == 200, await response.text()
        assert_in_zone(await response.json(content_type=None), zone)


@IN_MODULE_LOOP
async def test_listed_times_are_the_records_instants(zoned: tuple[TestClient, ZoneInfo]) -> None:
    client, _ = zoned
    body = await (await client.get("/v1/events", params={"active": "all"})).json(content_type=None)
    records = client.server.app[READ_MODEL].view(Kind.EVENT).records
    for feature in body["features"]:
        properties, record = feature["properties"], records[feature["id"]]
        assert datetime.fromisoformat(properties["updated_at"]) == record.updated_at
        assert datetime.fromisoformat(properties["ingested_at"]) == record.ingested_at


@IN_MODULE_LOOP
async def test_asked_times_come_back_as_the_same_instants(zoned: tuple[TestClient, ZoneInfo]) -> None:
    client, zone = zoned
    route = await (await client.get("/v1/routes", params={"from": "许昌", "to": "郑州", "depart_at": AT})).json()
    departure = datetime.fromisoformat(route["depart_at"])
    assert departure == datetime.fromisoformat(AT) and departure.utcoffset() == zone.utcoffset(departure)
    assert any(alert["id"] == "cma:haze" for alert in route["routes"][0]["alerts"])
    for found in route["routes"]:
        arrival = datetime.fromisoformat(found["arrive_at"])
        assert abs(arrival - departure - timedelta(minutes=found["duration_min"])) <= timedelta(seconds=4)
    quote = await (await client.get("/v1/tolls/quote", params={"from": "郑州", "to": "洛阳", "at": AT})).json()
    assert datetime.fromisoformat(quote["at"]) == datetime.fromisoformat(AT)
    assert quote["at"] == shown(datetime.fromisoformat(AT), zone)


@IN_MODULE_LOOP
async def test_stream_changes_carry_the_zone(zoned: tuple[TestClient, ZoneInfo]) -> None:
    client, zone = zoned
    stream = await client.get("/v1/stream", params={"kind": "event"})
    later = datetime.now(UTC) + timedelta(hours=1)
    await seed(client.server.app, [event("zoned", start_stake_m=700_000.0, start_time=later,
                                         expected_end=later + timedelta(hours=2))])
    [(_, name, data)] = await read_events(stream, 1)
    stream.close()
    assert name == "change"
    assert len(assert_in_zone(data, zone)) >= 4  # updated_at, ingested_at, start_time, expected_end
