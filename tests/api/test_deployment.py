"""Production shapes: several processes sharing PostGIS + Redis, and recovery when a backend returns."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from api.app import create_app
from api.keys import BUS, READ_MODEL, STORE
from api.views.health import Readiness
from tests.conftest import seed, wait_ready
from tests.factories import event
from tests.services import database_dsn, free_port, postgis_admin, postgis_database, redis_url, unavailable
from travel.core.records import Kind
from travel.core.settings import Settings
from travel.ingest.commit import commit
from travel.store.bus import RedisBus


async def eventually(check, timeout: float = 15.0) -> None:  # noqa: ANN001
    """Poll an async check until it returns True."""
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.1)

    await asyncio.wait_for(loop(), timeout)


async def test_two_processes_share_postgis_and_redis(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    async with postgis_database() as dsn, redis_url() as (url, prefix):
        settings = Settings(database_url=dsn, redis_url=url, redis_stream=f"{prefix}:changes",
                            data_dir=tmp_path, load_geodata=False)
        first, second = create_app(settings), create_app(settings)
        await aiohttp_client(first)
        client_b = await aiohttp_client(second)
        await wait_ready(first)
        await wait_ready(second)
        ready = await (await client_b.get("/readyz")).json()
        assert ready["checks"]["store"]["backend"] == "postgis" and ready["checks"]["bus"]["backend"] == "redis"

        await seed(first, [event("1"), event("2", road="G30")])

        async def second_sees_it() -> bool:
            body = await (await client_b.get("/v1/events", params={"road": "G30"})).json(content_type=None)
            return [f["id"] for f in body["features"]] == ["gsj:2"]

        await eventually(second_sees_it, 5)
        history = await (await client_b.get("/v1/events/gsj:1")).json(content_type=None)
        assert history["properties"]["history"][0]["version"] == 1


async def test_store_down_at_start_then_recovers(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    admin = await postgis_admin()  # the store must come up once the database exists: PostGIS is needed
    name = f"travel_late_{tmp_path.name[-8:].replace('-', '_')}".lower()
    dsn = database_dsn(name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    try:
        app = create_app(Settings(database_url=dsn, data_dir=tmp_path, load_geodata=False))
        client = await aiohttp_client(app)
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 503 and ready.headers["Retry-After"]
        assert body["checks"]["store"]["ok"] is False and body["checks"]["store"]["backend"] == "postgis"
        TypeAdapter(Readiness).validate_python(body)  # a 503 answers the declared readiness, naming what is down
        assert body["checks"]["bus"]["ok"] is True
        one = await client.get("/v1/events/gsj:1")
        assert one.status == 503 and one.headers["Retry-After"]
        assert (await one.json(content_type=None))["title"] == "Service unavailable"
        assert (await client.get("/v1/events")).status == 200  # reads come from the read model

        await admin.execute(f'CREATE DATABASE "{name}"')

        async def recovered() -> bool:
            return (await client.get("/readyz")).status == 200

        await eventually(recovered, 30)
        await seed(app, [event("1")])
        assert (await client.get("/v1/events/gsj:1")).status == 200
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()



@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A private redis-server on a free loopback port that a test may stop and restart."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    yield port, procs
    for proc in procs:
        proc.terminate()
        proc.wait(5)


def start_redis(port: int, procs: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    procs.append(subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


async def test_redis_outage_is_survived_and_caught_up(aiohttp_client, tmp_path: Path, redis_server) -> None:  # noqa: ANN001
    port, procs = redis_server
    start_redis(port, procs, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    probe = RedisBus(url)
    await probe.start()
    await eventually(lambda: _pings(probe), 10)
    app = create_app(Settings(redis_url=url, data_dir=tmp_path / "data", load_geodata=False))
    client = await aiohttp_client(app)
    await wait_ready(app)
    await seed(app, [event("1")])

    gone = procs.pop()
    gone.terminate()  # Redis goes away (and, with no persistence, loses the stream)
    gone.wait(5)
    await eventually(lambda: _status(client, "/readyz", 503), 10)
    report = await commit(app[STORE], app[BUS], [event("2"), event("1", version=2, status="cleared")])
    assert report.published is False  # durable in the store, announced later
    assert (await client.get("/v1/events")).status == 200  # the API keeps serving

    start_redis(port, procs, tmp_path)
    model = app[READ_MODEL]

    async def caught_up() -> bool:
        held = model.view(Kind.EVENT).records
        return "gsj:2" in held and held["gsj:1"].version == 2

    await eventually(caught_up, 30)
    await eventually(lambda: _status(client, "/readyz", 200), 10)
    await probe.stop()


async def _pings(bus: RedisBus) -> bool:
    try:
        await bus.ping()
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False
    return True


async def _status(client, path: str, status: int) -> bool:  # noqa: ANN001
    return (await client.get(path)).status == status

