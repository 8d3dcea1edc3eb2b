"""Polling every configured source on its own interval, with apscheduler.

Per source: one job on an interval trigger with jitter (so sources configured alike do not poll in
lock-step); one poll at a time per source, scheduled or asked for (a per-source lock: a manual poll
waits for a scheduled one in flight, so their outcomes cannot cross); a poll is bounded by the source's timeout,
so a hanging source delays only itself. After failures the next poll waits exponentially longer
(interval × 2ⁿ, capped at ``max_backoff_s``). Each poll first takes or renews the source's lease, so
with several processes exactly one of them polls a source. A periodic check flags stale sources in
the log once, when they become stale and when they recover.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feeds.base import FeedError
from travel.core.errors import ServiceUnavailable
from travel.core.records import SourceConfig
from travel.ingest.fetch import FetchError, Validators, fetch
from travel.ingest.health import HealthBoard, staleness, utcnow
from travel.ingest.leases import Leases
from travel.ingest.pipeline import Ingestor
from travel.ingest.sources import Sources

log = logging.getLogger(__name__)

STALENESS_CHECK_S = 5.0


def backoff_s(config: SourceConfig, failures: int) -> float:
    """The wait before the next poll after ``failures`` failures in a row (0: the normal interval)."""
    if failures <= 0:
        return config.poll_interval_s
    return min(config.poll_interval_s * 2 ** (failures - 1), config.max_backoff_s)


def lease_ttl_s(config: SourceConfig) -> float:
    """Long enough to survive a slow poll and the jitter, short enough to hand over soon after a death."""
    return 2.5 * config.poll_interval_s + config.timeout_s


class FeedScheduler:
    """Polls every polled source; ``poll_now`` runs one poll immediately (tests, operators)."""

    def __init__(self, sources: Sources, ingestor: Ingestor, health: HealthBoard, leases: Leases,
                 on_poll: Callable[[str, str], None] | None = None) -> None:
        self.sources, self.ingestor, self.health, self.leases = sources, ingestor, health, leases
        self._validators: dict[str, Validators] = {}
        self._stale: set[str] = set()
        self._polling: dict[str, asyncio.Lock] = {}
        self._on_poll = on_poll or (lambda source, outcome: None)
        self._session: aiohttp.ClientSession | None = None
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        """Schedule every polled source (first polls spread over the first seconds) and the staleness check."""
        self._session = aiohttp.ClientSession(headers={"User-Agent": "travel-feeds/1"})
        now = datetime.now(UTC)
        for config in self.sources.polled:
            first = now + timedelta(seconds=random.uniform(0, min(2.0, config.poll_interval_s)))  # noqa: S311
            self._scheduler.add_job(
                self.poll_now, IntervalTrigger(seconds=config.poll_interval_s, jitter=config.poll_interval_s / 10),
                args=[config.id], id=config.id, max_instances=1, coalesce=True, misfire_grace_time=None,
                next_run_time=first,
            )
        self._scheduler.add_job(self.check_staleness, IntervalTrigger(seconds=STALENESS_CHECK_S), id="staleness",
                                max_instances=1, coalesce=True)
        self._scheduler.start()

    async def stop(self) -> None:
        """Stop scheduling, hand the leases back and close connections."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self.leases.release_all()
        if self._session is not None:
            await self._session.close()

    async def poll_now(self, source_id: str) -> str:
        """Poll one source once, after any poll of it in flight; the outcome word is returned (and counted)."""
        async with self._polling.setdefault(source_id, asyncio.Lock()):
            return await self._poll(source_id)

    async def _poll(self, source_id: str) -> str:
        config = self.sources.get(source_id)
        assert config is not None and self._session is not None
        if not await self.leases.hold(source_id, lease_ttl_s(config)):
            return self._done(source_id, "standby")
        validators = self._validators.get(source_id, Validators())
        try:
            fetched = await fetch(self._session, config, validators)
            if fetched.body is None:
                await self.health.not_modified(source_id)
                return self._done(source_id, "not_modified")
            await self.ingestor.take(config, fetched.body, fetched.charset)
        except FetchError as err:
            await self.health.failed(source_id, str(err))
            return self._failed(config, "fetch_error", str(err))
        except FeedError as err:
            return self._failed(config, "refused", str(err))  # health noted by the ingestor
        except ServiceUnavailable as err:
            await self.health.failed(source_id, f"not stored: {err.detail}")
            return self._failed(config, "store_unavailable", err.detail)
        self._validators[source_id] = fetched.validators  # only after the document is durable
        return self._done(source_id, "ok")

    def _done(self, source_id: str, outcome: str) -> str:
        self._on_poll(source_id, outcome)
        return outcome

    def _failed(self, config: SourceConfig, outcome: str, error: str) -> str:
        failures = self.health.get(config.id).consecutive_failures
        delay = backoff_s(config, failures) * random.uniform(0.9, 1.1)  # noqa: S311
        log.warning("poll failed", extra={"source": config.id, "error": error, "failures": failures,
                                          "retry_s": round(delay, 1)})
        job = self._scheduler.get_job(config.id)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC) + timedelta(seconds=delay))
        return self._done(config.id, outcome)

    async def check_staleness(self) -> set[str]:
        """Log sources that became stale or recovered; the set of stale ones is returned."""
        now = utcnow()
        shared = await self.health.refresh(c.id for c in self.sources)
        stale = {c.id for c in self.sources if staleness(c, shared[c.id], self.health.started, now)[0]}
        for source_id in sorted(stale - self._stale):
            log.warning("source is stale; its last good data stays served", extra={
                "source": source_id, "last_success": shared[source_id].last_success,
                "last_error": shared[source_id].last_error})
        for source_id in sorted(self._stale - stale):
            log.info("source is fresh again", extra={"source": source_id})
        self._stale = stale
        return stale
