"""The simulator's story run against the service, on both backends: polls, API, stream and faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import FEEDS, READ_MODEL, STORE
from demo.simulator import Fault, Simulator
from tests.conftest import wait_ready
from tests.services import postgis_database
from travel.core.records import Kind
from travel.core.settings import Settings
from travel.read.readmodel import MIRRORED_KINDS

DEMO = ("demo-weather", "demo-expressway", "demo-workzones", "demo-service-areas", "demo-hydrology")


@asynccontextmanager
async def running(aiohttp_client, tmp_path: Path, backend: str) -> AsyncIterator[tuple[TestClient, Simulator]]:  # noqa: ANN001
    """The service with the bundled network, polling a simulator (hourly: tests poll explicitly)."""
    simulator = Simulator()
    await simulator.start()
    try:
        if backend == "postgis":
            async with postgis_database() as dsn:
                yield await _client(aiohttp_client, Settings(database_url=dsn, data_dir=tmp_path), simulator), simulator
        else:
            yield await _client(aiohttp_client, Settings(data_dir=tmp_path), simulator), simulator
    finally:
        await simulator.stop()


async def _client(aiohttp_client, settings: Settings, simulator: Simulator) -> TestClient:  # noqa: ANN001
    app = create_app(settings, extra_sources=simulator.sources(poll_interval_s=3600))
    client = await aiohttp_client(app)
    await wait_ready(app, timeout=60)
    return client


async def poll_all(app: web.Application) -> dict[str, str]:
    """Poll every demo source now; the outcome of each."""
    scheduler = app[FEEDS].scheduler
    outcomes = await asyncio.gather(*(scheduler.poll_now(s) for s in DEMO))
    return dict(zip(DEMO, outcomes, strict=True))


async def features(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return (await response.json())["features"]


async def settled(app: web.Application, timeout: float = 5.0) -> None:
    """Wait until the read model has applied everything committed (the bus is asynchronous)."""
    model, store = app[READ_MODEL], app[STORE]

    async def caught_up() -> None:
        while await store.changed_since(model.watermark, MIRRORED_KINDS):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(caught_up(), timeout)


@pytest.fixture(params=["embedded", "postgis"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_the_story_appears_in_the_api(aiohttp_client, tmp_path: Path, backend: str) -> None:  # noqa: ANN001
    async with running(aiohttp_client, tmp_path, backend) as (client, sim):
        app = client.app
        assert set((await poll_all(app)).values()) == {"ok"}
        await settled(app)

        # Step 0: fog warning over 郑州, G30 closed (given by stakes only), G4 roadworks (given by coordinates).
        alerts = await features(client, "/v1/alerts")
        assert [a["properties"]["colour"] for a in alerts] == ["yellow"]
        fog = alerts[0]["properties"]
        assert fog["event"] == "大雾" and "G4" in fog["roads"] and "G30" in fog["roads"]
        assert alerts[0]["geometry"]["type"] == "Polygon"
        assert [a["id"] for a in await features(client, "/v1/alerts?area=410100")] == [alerts[0]["id"]]

        closure = (await features(client, "/v1/events?road=G30&type=closure"))[0]
        assert closure["geometry"]["type"] == "LineString"
        assert closure["properties"]["stake_range"] == "K586+300–K618+900"
        works = (await features(client, "/v1/events?road=G4&type=construction"))[0]
        assert works["properties"]["road"] == "G4" and works["properties"]["start_stake_m"] > 700_000
        assert works["properties"]["stake_range"].startswith("K7")

        sa = app[READ_MODEL].view(Kind.POI).records["geodata:sa-G4-xuchang"]
        assert sa.open_status == "open"
        readings = await app[STORE].changed_since(None, [Kind.READING])
        assert [r.level_m for r in readings] == [45.9]

        # Step 1: upgraded to orange (Update supersedes), the service area's fuel stops.
        sim.advance()
        await poll_all(app)
        await settled(app)
        alerts = await features(client, "/v1/alerts")
        assert [a["properties"]["colour"] for a in alerts] == ["orange"]
        old = await features(client, "/v1/alerts?active=false")
        assert [a["properties"]["superseded_by"] for a in old] == [alerts[0]["id"]]
        assert app[READ_MODEL].view(Kind.POI).records["geodata:sa-G4-xuchang"].open_status == "partial"

        # Step 2: cancelled; the closure is gone from the snapshot, so it is cleared (kept in history).
        sim.advance()
        await poll_all(app)
        await settled(app)
        assert await features(client, "/v1/alerts") == []
        assert await features(client, "/v1/events?road=G30") == []
        cleared = (await features(client, "/v1/events?road=G30&active=false"))[0]
        assert cleared["properties"]["status"] == "cleared"
        history = await (await client.get(f"/v1/events/{cleared['id']}")).json()
        assert [v["status"] for v in history["properties"]["history"]] == ["active", "cleared"]
        readings = await app[STORE].changed_since(None, [Kind.READING])
        assert sorted(r.level_m for r in readings) == [45.9, 46.3, 46.7]

        # Step 3: a new accident; polling the unchanged WZDx feed again is a 304 and changes nothing.
        sim.advance()
        outcomes = await poll_all(app)
        assert outcomes["demo-workzones"] == "not_modified"
        await settled(app)
        accident = (await features(client, "/v1/events?type=accident"))[0]
        assert accident["properties"]["road"] == "G30" and accident["properties"]["stake_range"]
        assert app[READ_MODEL].view(Kind.POI).records["geodata:sa-G4-xuchang"].open_status == "open"

        sources = {s["id"]: s for s in (await (await client.get("/v1/sources")).json())["sources"]}
        assert sources["demo-workzones"]["not_modified"] >= 1
        assert sources["demo-expressway"]["records"] == {"event": 1}
        assert all(s["consecutive_failures"] == 0 and not s["stale"] for s in sources.values())


async def test_a_misbehaving_source_keeps_its_data_and_blocks_nothing(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    async with running(aiohttp_client, tmp_path, "embedded") as (client, sim):
        app = client.app
        await poll_all(app)
        await settled(app)
        before = await features(client, "/v1/events")
        feeds = app[FEEDS]
        # A hanging source times out without holding up the others.
        feeds.sources.by_id["demo-expressway"] = feeds.sources.by_id["demo-expressway"].model_copy(
            update={"timeout_s": 0.5})
        sim.faults["/datex2/situations.xml"] = Fault.HANG
        sim.advance()
        outcomes = await asyncio.wait_for(poll_all(app), 15)  # a hang guard: the source's own timeout ends it
        assert outcomes["demo-expressway"] == "fetch_error"
        assert outcomes["demo-weather"] == "ok"

        for fault, outcome, words in (
            (Fault.ERROR, "fetch_error", "HTTP 500"),
            (Fault.HTML, "fetch_error", "HTML page"),
            (Fault.TRUNCATED, "refused", "not well-formed"),
            (Fault.MISLABELLED_GBK, "refused", "GBK"),
        ):
            sim.faults["/datex2/situations.xml"] = fault
            assert await feeds.scheduler.poll_now("demo-expressway") == outcome
            health = feeds.health.get("demo-expressway")
            assert words in (health.last_error or ""), health.last_error
        # five explicit polls failed; a backoff retry of the scheduler's own may have failed in between
        failures = feeds.health.get("demo-expressway").consecutive_failures
        assert failures >= 5
        await settled(app)
        after = await features(client, "/v1/events?road=G30")
        assert [f["id"] for f in after] == [f["id"] for f in before if f["properties"]["road"] == "G30"]

        status = {s["id"]: s for s in (await (await client.get("/v1/sources")).json())["sources"]}
        assert status["demo-expressway"]["consecutive_failures"] >= failures
        assert status["demo-weather"]["consecutive_failures"] == 0

        # Recovery: the fault clears, the next poll takes the step-1 snapshot.
        del sim.faults["/datex2/situations.xml"]
        assert await feeds.scheduler.poll_now("demo-expressway") == "ok"
        assert feeds.health.get("demo-expressway").consecutive_failures == 0


async def read_events(response: Any, n: int, timeout: float = 10) -> list[tuple[str | None, str, dict[str, Any]]]:
    """The next ``n`` SSE events as (id, event, data)."""
    out: list[tuple[str | None, str, dict[str, Any]]] = []
    event_id, name, data = None, "message", ""

    async def run() -> None:
        nonlocal event_id, name, data
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if not line:
                if data:
                    out.append((event_id, name, json.loads(data)))
                    if len(out) == n:
                        return
                event_id, name, data = None, "message", ""
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]

    await asyncio.wait_for(run(), timeout)
    return out


async def test_the_stream_pushes_changes_and_resumes(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    async with running(aiohttp_client, tmp_path, "embedded") as (client, sim):
        app = client.app
        stream = await client.get("/v1/stream?kind=event&road=G30")
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await poll_all(app)
        first = await read_events(stream, 1)
        assert first[0][1] == "change" and first[0][2]["feature"]["properties"]["type"] == "closure"
        last_id = first[0][0]
        stream.close()

        sim.advance()
        sim.advance()  # the closure is cleared at step 2
        await poll_all(app)
        await settled(app)
        resumed = await client.get("/v1/stream?kind=event&road=G30", headers={"Last-Event-ID": last_id})
        got = await read_events(resumed, 1)
        assert got[0][2]["op"] == "updated" and got[0][2]["feature"]["properties"]["status"] == "cleared"
        resumed.close()

        gone = await client.get("/v1/stream", headers={"Last-Event-ID": "999999"})
        reset = await read_events(gone, 1)
        assert reset[0][1] == "reset"
        gone.close()


async def test_stream_filters_are_checked(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path, load_geodata=False))
    client = await aiohttp_client(app)
    response = await client.get("/v1/stream?kind=nonsense")
    assert response.status == 400
    assert (await response.json())["param"] == "kind"
