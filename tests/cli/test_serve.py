"""The run commands end to end on the embedded store with the bundle: `travel serve` (the service, as the
image runs it) and `python -m demo` (what `make run` runs: the service polling the feed simulator)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
Start = Callable[..., tuple[str, subprocess.Popen[bytes]]]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start `python -m ARGS…` from the checkout on a fresh data dir; killed at the end if still running."""
    procs: list[subprocess.Popen[bytes]] = []

    def run(*args: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(TRAVEL_DATA_DIR=str(tmp_path / "data"), TRAVEL_PORT=str(port), TRAVEL_LOG_LEVEL="WARNING")
        procs.append(subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        return f"http://127.0.0.1:{port}", procs[-1]

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


async def wait_ready(session: aiohttp.ClientSession, base: str, timeout: float = 90) -> None:
    async def poll() -> None:
        while True:
            try:
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout)


async def count(session: aiohttp.ClientSession, url: str, **params: str) -> int:
    async with session.get(url, params={**params, "limit": "5000"}) as resp:
        assert resp.status == 200
        return (await resp.json(content_type=None))["count"]


async def source_ids(base: str) -> bytes:
    """`travel sources --url BASE --json`'s output."""
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "travel", "sources", "--url", base, "--json"],
                                   capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C ends the server cleanly."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0, proc.stderr.read().decode() if proc.stderr else ""


async def test_serve_serves_the_bundled_henan_data_and_no_demo(start: Start) -> None:
    base, proc = start("travel", "serve")
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)
        assert await count(session, f"{base}/v1/pois", kind="toll_station") >= 80
        assert await count(session, f"{base}/v1/pois", kind="service_area") >= 40
        assert await count(session, f"{base}/v1/pois", kind="bus_station") >= 18
        assert await count(session, f"{base}/v1/pois", q="许昌") >= 1
        near_xuchang = await count(session, f"{base}/v1/pois", near="113.85,34.03", radius_m="30000")
        assert near_xuchang >= 2
        async with session.get(f"{base}/metrics") as resp:
            assert 'travel_records{kind="road_section"}' in await resp.text()
        assert b"demo-" not in await source_ids(base)
    interrupt(proc)


async def test_make_run_serves_the_service_polling_the_demo_simulator(start: Start) -> None:
    base, proc = start("demo", "--step-s", "60")
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)

        # The demo simulator is polled: its G30 closure and fog warning show up within seconds.
        async def demo_is_live() -> None:
            while not (await count(session, f"{base}/v1/events", road="G30") and
                       await count(session, f"{base}/v1/alerts")):
                await asyncio.sleep(0.3)

        await asyncio.wait_for(demo_is_live(), 30)
        sources = await source_ids(base)
        assert b'"demo-weather"' in sources and b'"demo-expressway"' in sources
    interrupt(proc)
