"""Polling discipline: backoff after failures, staleness flagged but data kept, one poller per source."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from api.app import create_app
from api.features import collection_of
from api.keys import FEEDS
from api.views.sources import SourcesResponse
from demo.simulator import Fault, Simulator
from tests.conftest import wait_ready
from tests.services import redis_url
from travel.core.errors import InvalidRecord
from travel.core.records import Alert, SourceConfig
from travel.core.settings import Settings
from travel.ingest.health import HealthBoard, StaleWatch, staleness, utcnow
from travel.ingest.leases import RedisLeases
from travel.ingest.scheduler import backoff_s
from travel.ingest.sources import Sources, load_sources

CONFIG = SourceConfig(id="s", agency="a", format="cap", url="http://127.0.0.1:9/x", poll_interval_s=30,
                      max_backoff_s=600)


@given(st.integers(min_value=0, max_value=60))
def test_backoff_grows_exponentially_and_is_capped(failures: int) -> None:
    delay = backoff_s(CONFIG, failures)
    assert 30 <= delay <= 600
    assert backoff_s(CONFIG, failures + 1) >= delay
    if 1 <= failures <= 4:
        assert delay == 30 * 2 ** (failures - 1)


@asynccontextmanager
async def serving_the_simulator(aiohttp_client, tmp_path: Path, poll_interval_s: float,  # noqa: ANN001
                                **update: object) -> AsyncIterator[tuple[Simulator, TestClient, SourceConfig]]:
    """The simulator's CAP source (with ``update``) configured in a served app."""
    simulator = Simulator()
    await simulator.start()
    try:
        app = create_app(Settings(data_dir=tmp_path, load_geodata=False))
        config = simulator.sources(poll_interval_s=poll_interval_s)[0].model_copy(update=update)
        app[FEEDS].sources.extend([config])
        client = await aiohttp_client(app)
        await wait_ready(app)
        yield simulator, client, config
    finally:
        await simulator.stop()


async def test_a_failing_source_is_polled_later_and_later_then_flagged_stale(
        aiohttp_client, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    async with serving_the_simulator(aiohttp_client, tmp_path, 2, stale_after_s=1.0) as (simulator, client, config):
        scheduler = client.server.app[FEEDS].scheduler
        assert await scheduler.poll_now(config.id) == "ok"
        events_before = (await (await client.get("/v1/alerts")).json())["count"]
        assert events_before == 1

        simulator.faults["/cap/henan.xml"] = Fault.ERROR
        delays = []
        for _ in range(4):
            assert await scheduler.poll_now(config.id) == "fetch_error"
            job = scheduler._scheduler.get_job(config.id)
            delays.append((job.next_run_time - datetime.now(UTC)).total_seconds())
        assert delays[0] < delays[1] < delays[2] < delays[3] <= 30 * 1.1 + 0.1, delays

        await asyncio.sleep(1.1)
        with caplog.at_level(logging.WARNING):
            assert await scheduler.check_staleness() == {config.id}
        assert any("stale" in r.getMessage() for r in caplog.records)
        alerts = await (await client.get("/v1/alerts")).json()
        assert alerts["count"] == 1 and alerts["stale_sources"][config.id] >= 1.0
        TypeAdapter(collection_of(Alert)).validate_python(alerts)  # stale_sources as declared
        metrics = await (await client.get("/metrics")).text()
        assert f'travel_source_stale_age_seconds{{source="{config.id}"}}' in metrics
        status = (await (await client.get("/v1/sources")).json())
        assert status["stale"] == [config.id] and status["sources"][0]["consecutive_failures"] == 4
        SourcesResponse.model_validate(status)


async def test_a_lease_is_held_by_one_process_at_a_time() -> None:
    async with redis_url() as (url, prefix):
        first, second = RedisLeases(url, prefix=f"{prefix}:lease:"), RedisLeases(url, prefix=f"{prefix}:lease:")
        try:
            assert await first.hold("demo-weather", 5)
            assert not await second.hold("demo-weather", 5)
            assert await first.hold("demo-weather", 5)  # renewal
            assert await second.hold("demo-expressway", 5)
        finally:
            await first.release_all()
        assert await second.hold("demo-weather", 5)  # handed over at once on release
        await second.release_all()


async def test_two_processes_poll_each_source_exactly_once(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    simulator = Simulator()
    await simulator.start()
    try:
        async with redis_url() as (url, prefix):
            apps = []
            for n in range(2):
                settings = Settings(data_dir=tmp_path / str(n), load_geodata=False, redis_url=url,
                                    redis_stream=f"{prefix}:changes")
                app = create_app(settings)
                app[FEEDS].sources.extend(simulator.sources(poll_interval_s=1))
                app[FEEDS].scheduler.leases._prefix = f"{prefix}:lease:"  # isolate from other runs
                await aiohttp_client(app)
                await wait_ready(app)
                apps.append(app)
            await asyncio.sleep(3.5)
            pollers = {}
            for source in ("demo-weather", "demo-expressway"):
                polled = [app for app in apps if app[FEEDS].health.get(source).documents
                          + app[FEEDS].health.get(source).not_modified > 0]
                pollers[source] = len(polled)
            assert pollers == {"demo-weather": 1, "demo-expressway": 1}
            assert simulator.requests["/cap/henan.xml"] <= 5
    finally:
        await simulator.stop()


def test_a_sources_file_is_checked_entry_by_entry(tmp_path: Path) -> None:
    good = tmp_path / "sources.toml"
    good.write_text('[[source]]\nid = "hn-weather"\nagency = "河南省气象台"\nformat = "cap"\n'
                    'url = "http://127.0.0.1:9000/cap.xml"\npoll_interval_s = 60\nkinds = ["alert"]\n\n'
                    '[[source]]\nid = "hngs-push"\nagency = "河南省高速公路管理局"\nformat = "datex2"\n'
                    'push = true\nsecret_env = "HNGS_SECRET"\n', encoding="utf-8")
    sources = load_sources(good)
    assert [s.id for s in sources] == ["hn-weather", "hngs-push"] and [s.id for s in sources.polled] == ["hn-weather"]
    for body, words in (
        ('[[source]]\nid = "x"\nagency = "a"\nformat = "cap"\n', "source #1"),
        ('[[source]]\nid = "x"\nagency = "a"\nformat = "cap"\npush = true\nurl = "http://h/x"\n', "not both"),
        ('[[source]]\nid = "x"\nagency = "a"\nformat = "cap"\npush = true\nzone = "Mars/Olympus"\n', "time zone"),
        ('[[source]]\nid = "x"\nagency = "a"\nformat = "cap"\npush = true\n' * 2, "twice"),
        ("[[source]\n", "sources.toml"),
    ):
        good.write_text(body, encoding="utf-8")
        with pytest.raises(InvalidRecord, match=words):
            load_sources(good)


async def test_polls_of_one_source_never_overlap(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    async with serving_the_simulator(aiohttp_client, tmp_path, 60, timeout_s=0.3) as (simulator, client, config):
        simulator.faults["/cap/henan.xml"] = Fault.HANG
        scheduler = client.server.app[FEEDS].scheduler
        outcomes = await asyncio.gather(*(scheduler.poll_now(config.id) for _ in range(3)))
        assert outcomes == ["fetch_error"] * 3
        # Each poll hung until its timeout, one after another: never two requests in flight at once.
        assert simulator.requests["/cap/henan.xml"] == 3 and simulator.most_in_flight["/cap/henan.xml"] == 1


async def test_stale_sources_are_judged_again_when_health_changes_or_a_deadline_passes() -> None:
    polled = SourceConfig(id="polled", agency="a", format="cap", url="http://127.0.0.1:9/x", stale_after_s=0.5)
    pushed = SourceConfig(id="pushed", agency="a", format="cap", push=True)  # states no limit: never stale
    sources, health = Sources([polled, pushed]), HealthBoard()
    watch = StaleWatch(sources, health)

    def judged_afresh() -> dict[str, float]:
        now = utcnow()
        verdicts = {c.id: staleness(c, health.get(c.id), health.started, now) for c in sources}
        return {source: age for source, (stale, age) in verdicts.items() if stale}

    assert watch.ages() == judged_afresh() == {}
    await asyncio.sleep(0.6)  # the kept verdict expires when the polled source's deadline passes
    ages = watch.ages()
    assert list(ages) == list(judged_afresh()) == ["polled"] and ages["polled"] >= 0.5

    await health.succeeded("polled", {}, [], changed=False)
    assert watch.ages() == judged_afresh() == {}  # a success is seen at once, not at the next deadline
    await asyncio.sleep(0.6)
    assert list(watch.ages()) == ["polled"]  # the deadline now runs from that success

    await health.failed("polled", "timeout")
    assert list(watch.ages()) == ["polled"]  # a failure changes nothing about staleness
    late = SourceConfig(id="late", agency="a", format="cap", url="http://127.0.0.1:9/y", stale_after_s=0.1)
    sources.extend([late])
    assert sorted(watch.ages()) == sorted(judged_afresh()) == ["late", "polled"]  # a source added later counts
    with pytest.raises(InvalidRecord):  # one added before a refused one stays added, and counts too
        sources.extend([late.model_copy(update={"id": "later"}), polled])
    assert sorted(watch.ages()) == sorted(judged_afresh()) == ["late", "later", "polled"]
    ages, fresh = watch.ages(), judged_afresh()
    assert all(abs(ages[s] - fresh[s]) <= 0.11 for s in fresh)  # the same ages, to 0.1 s
