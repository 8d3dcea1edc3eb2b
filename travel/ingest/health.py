"""Per-source health: last success, last error, failures in a row, staleness, what the last document held.

Each process keeps its own copy; with Redis configured every update is also written to one Redis
hash, so ``/v1/sources`` on any process shows what the process polling a source (or receiving its
pushes) saw. Updates are last-writer-wins per source: one process polls a source at a time.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from travel.core.records import SourceConfig
from travel.ingest.sources import Sources

log = logging.getLogger(__name__)

KEEP_REJECTIONS = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC (one place to read the clock)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class SourceHealth:
    """What is known about one source's recent behaviour."""

    id: str
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_change: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    documents: int = 0
    failures: int = 0
    not_modified: int = 0
    rejected: int = 0
    last_report: dict[str, int] = field(default_factory=dict)
    last_rejections: list[str] = field(default_factory=list)
    reporter: str | None = None

    def to_json(self) -> bytes:
        """Serialized for the shared hash."""
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> SourceHealth:
        """Inverse of ``to_json`` (unknown fields from a newer version are dropped)."""
        raw = orjson.loads(data)
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        for name in ("last_attempt", "last_success", "last_change", "last_error_at"):
            if known.get(name):
                known[name] = datetime.fromisoformat(known[name])
        return cls(**known)


class SourceStatus(BaseModel):
    """One source's health."""

    id: str
    agency: str
    format: str
    mode: str = Field(description="poll or push")
    poll_interval_s: float | None
    stale: bool = Field(description="no success for longer than stale_after_s: its last good data is still served")
    stale_after_s: float | None
    age_s: float = Field(description="seconds since the last success (or since start-up, before the first)")
    last_success: datetime | None
    last_attempt: datetime | None
    last_change: datetime | None = Field(description="last time a document changed something stored")
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    documents: int
    failures: int
    not_modified: int
    rejected: int = Field(description="items rejected since start-up")
    last_report: dict[str, int]
    last_rejections: list[str]
    records: dict[str, int] = Field(description="active records of this source held, per kind")
    reported_by: str | None = Field(description="the process that last polled or received it")


def staleness(config: SourceConfig, health: SourceHealth, started: datetime, now: datetime) -> tuple[bool, float]:
    """(stale, age in seconds of the last good data, or of the wait for the first)."""
    since = health.last_success or started
    age = max(0.0, (now - since).total_seconds())
    limit = config.staleness_limit_s
    return (limit is not None and age > limit), age


class HealthBoard:
    """Every source's health, shared through Redis when a URL is given."""

    def __init__(self, redis_url: str | None = None, key: str = "travel:source-health") -> None:
        self.local: dict[str, SourceHealth] = {}
        self.revision = 0  # bumped by every change to a source's health, so judgements of it can be kept
        self.started = utcnow()
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self._key = key
        self._redis = aioredis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=5) if redis_url else None

    async def close(self) -> None:
        """Close the Redis client."""
        if self._redis is not None:
            await self._redis.aclose()

    def get(self, source_id: str) -> SourceHealth:
        """One source's health as this process knows it (created on first use)."""
        health = self.local.get(source_id)
        if health is None:
            health = self.local[source_id] = SourceHealth(source_id)
        return health

    async def refresh(self, source_ids: Iterable[str]) -> dict[str, SourceHealth]:
        """The shared view of every listed source (the local one when Redis is absent or down)."""
        ids = list(source_ids)
        if self._redis is not None and ids:
            try:
                values = await self._redis.hmget(self._key, ids)
            except (OSError, aioredis.RedisError) as err:
                log.warning("source health: Redis unreachable, showing this process's view", extra={"error": str(err)})
            else:
                for source_id, value in zip(ids, values, strict=True):
                    if value is None:
                        continue
                    shared, mine = SourceHealth.from_json(value), self.local.get(source_id)
                    if mine is None or (shared.last_attempt or EPOCH) >= (mine.last_attempt or EPOCH):
                        self.local[source_id] = shared
                        self.revision += 1
        return {i: self.get(i) for i in ids}

    async def succeeded(self, source_id: str, report: dict[str, int], rejections: list[str], *,
                        changed: bool) -> SourceHealth:
        """Note a document taken in (some of its items may have been rejected)."""
        health = self.get(source_id)
        now = utcnow()
        health.last_attempt = health.last_success = now
        health.consecutive_failures = 0
        health.documents += 1
        health.rejected += len(rejections)
        health.last_report = report
        if changed:
            health.last_change = now
        if rejections:
            health.last_rejections = (rejections + health.last_rejections)[:KEEP_REJECTIONS]
            health.last_error, health.last_error_at = f"{len(rejections)} item(s) rejected: {rejections[0]}", now
        await self._share(health)
        return health

    async def not_modified(self, source_id: str) -> SourceHealth:
        """Note a conditional GET answered 304: the source is alive and unchanged."""
        health = self.get(source_id)
        health.last_attempt = health.last_success = utcnow()
        health.consecutive_failures = 0
        health.not_modified += 1
        await self._share(health)
        return health

    async def failed(self, source_id: str, error: str) -> SourceHealth:
        """Note a failed poll or refused document; the source's stored data is untouched."""
        health = self.get(source_id)
        health.last_attempt = health.last_error_at = utcnow()
        health.last_error = error
        health.consecutive_failures += 1
        health.failures += 1
        await self._share(health)
        return health

    async def _share(self, health: SourceHealth) -> None:
        """Every change to a source's health ends here: count it, then write it to the shared hash."""
        self.revision += 1
        health.reporter = self.identity
        if self._redis is None:
            return
        try:
            await self._redis.hset(self._key, health.id, health.to_json())
        except (OSError, aioredis.RedisError) as err:
            log.warning("source health not shared: Redis unreachable", extra={"source": health.id, "error": str(err)})


def describe(config: SourceConfig, health: SourceHealth, started: datetime, now: datetime,
             records: dict[str, int]) -> SourceStatus:
    """The public view of one source, as ``/v1/sources`` and ``travel sources`` show it."""
    stale, age = staleness(config, health, started, now)
    return SourceStatus(
        id=config.id,
        agency=config.agency,
        format=config.format,
        mode="poll" if config.url else "push",
        poll_interval_s=config.poll_interval_s if config.url else None,
        stale=stale,
        stale_after_s=config.staleness_limit_s,
        age_s=round(age, 1),
        last_success=health.last_success,
        last_attempt=health.last_attempt,
        last_change=health.last_change,
        last_error=health.last_error,
        last_error_at=health.last_error_at,
        consecutive_failures=health.consecutive_failures,
        documents=health.documents,
        failures=health.failures,
        not_modified=health.not_modified,
        rejected=health.rejected,
        last_report=health.last_report,
        last_rejections=health.last_rejections,
        records=records,
        reported_by=health.reporter,
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Which sources were stale when judged, and until when that judgement holds."""

    token: tuple[int, int]  # how many sources there were, and the health board's revision
    since: dict[str, float]  # each stale source's last good data (or the wait's start), Unix seconds
    until: float  # the first moment a fresh source turns stale (inf: none can), Unix seconds


class StaleWatch:
    """The stale sources and their ages, judged again only when health changes or a deadline passes.

    Every list request asks (its answer names the stale sources whose records it shows); judging
    each source reads its health and the clock as datetimes, about half a microsecond a source.
    Between changes the verdict stands until the earliest moment a fresh source would turn stale;
    a stale source turns fresh only through a change of its health.
    """

    def __init__(self, sources: Sources, health: HealthBoard) -> None:
        self.sources = sources
        self.health = health
        self._verdict: _Verdict | None = None

    def ages(self) -> dict[str, float]:
        """Age in seconds (to 0.1 s) of the last good data of every stale source."""
        if not self.sources:
            return {}
        now = time.time()
        verdict = self._verdict
        token = (len(self.sources), self.health.revision)  # sources are only ever added
        if verdict is None or verdict.token != token or now > verdict.until:
            verdict = self._verdict = self._judge(token)
        return {source: round(max(0.0, now - since), 1) for source, since in verdict.since.items()}

    def _judge(self, token: tuple[int, int]) -> _Verdict:
        now = utcnow()
        stamp = now.timestamp()
        since: dict[str, float] = {}
        until = math.inf
        for config in self.sources:
            stale, age = staleness(config, self.health.get(config.id), self.health.started, now)
            if stale:
                since[config.id] = stamp - age
            elif config.staleness_limit_s is not None:
                until = min(until, stamp + config.staleness_limit_s - age)
        return _Verdict(token, since, until)
