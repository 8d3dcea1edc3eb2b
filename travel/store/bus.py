"""The change bus: every committed change is published so each process's read model follows it.

Both implementations are resumable from a position: a consumer notes ``position()`` before loading
its snapshot from the store and subscribes from there, so nothing committed in between is missed
(applying a change twice is harmless: versions make it idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import redis.asyncio as aioredis

from travel.core.errors import BusUnavailable
from travel.core.records import Kind, record_from_json
from travel.store.base import Change, ChangeOp

log = logging.getLogger(__name__)


class ChangeBus(Protocol):
    """Publish committed changes; subscribe from a position."""

    name: str

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Disconnect and end every subscription."""

    async def ping(self) -> None:
        """Raise ``BusUnavailable`` unless the bus answers now."""

    async def publish(self, changes: Sequence[Change]) -> None:
        """Publish changes (UNCHANGED ones are skipped)."""

    async def position(self) -> str:
        """An opaque position: a subscription from it sees every later publication."""

    def subscribe(self, after: str) -> AsyncIterator[tuple[str, Change]]:
        """(position, change) for every change published after ``after``, forever (until ``stop``)."""


def encode_change(change: Change) -> dict[bytes, bytes]:
    """The wire form of a change on the Redis stream (the body as the store wrote it, not re-serialized)."""
    return {
        b"kind": change.kind.value.encode(),
        b"op": change.op.value.encode(),
        b"body": change.body.encode(),
    }


def decode_change(fields: dict[bytes, bytes]) -> Change:
    """Inverse of ``encode_change``."""
    kind = Kind(fields[b"kind"].decode())
    return Change(ChangeOp(fields[b"op"].decode()), record_from_json(kind, fields[b"body"]))


class InProcessBus:
    """A bus inside one process: a bounded log of recent changes plus a condition to wake readers.

    A subscriber that falls behind the retained window gets ``BusUnavailable`` rather than a silent
    gap, so ``follow`` catches up from the store; the window only has to cover normal lag.
    """

    name = "in-process"

    def __init__(self, retain: int = 20_000) -> None:
        self._log: deque[tuple[int, Change]] = deque(maxlen=retain)
        self._seq = 0
        self._cond = asyncio.Condition()
        self._stopped = False

    async def start(self) -> None:
        """Nothing to connect."""
        self._stopped = False

    async def stop(self) -> None:
        """Wake and end every subscriber."""
        self._stopped = True
        async with self._cond:
            self._cond.notify_all()

    async def ping(self) -> None:
        """Always reachable while started."""
        if self._stopped:
            raise BusUnavailable("the in-process bus is stopped")

    async def publish(self, changes: Sequence[Change]) -> None:
        """Append to the log and wake subscribers."""
        fresh = [c for c in changes if c.op is not ChangeOp.UNCHANGED]
        if not fresh:
            return
        async with self._cond:
            for change in fresh:
                self._seq += 1
                self._log.append((self._seq, change))
            self._cond.notify_all()

    async def position(self) -> str:
        """The sequence number of the last publication."""
        return str(self._seq)

    async def subscribe(self, after: str) -> AsyncIterator[tuple[str, Change]]:
        """Replay retained changes after ``after``, then follow new ones."""
        last = int(after)
        while not self._stopped:
            async with self._cond:
                await self._cond.wait_for(lambda last=last: self._stopped or self._seq > last)
                if self._log and self._log[0][0] > last + 1:
                    raise BusUnavailable(f"subscriber fell behind the in-process bus (missed after #{last})")
                pending = [(s, c) for s, c in self._log if s > last]
            for seq, change in pending:
                last = seq
                yield str(seq), change


class RedisBus:
    """Redis Streams: one stream, XADD to publish, blocking XREAD per subscriber (fan-out)."""

    name = "redis"

    def __init__(self, url: str, *, stream: str = "travel:changes", maxlen: int = 200_000) -> None:
        self._url = url
        self._stream = stream
        self._maxlen = maxlen
        self._client: aioredis.Redis | None = None
        self._stopped = False

    async def start(self) -> None:
        """Create the client (connections are made lazily and re-made after failures)."""
        self._stopped = False
        self._client = aioredis.from_url(self._url, socket_connect_timeout=3, socket_timeout=10)

    async def stop(self) -> None:
        """Close the client; subscribers end at their next wake-up."""
        self._stopped = True
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise BusUnavailable("the Redis bus is not started")
        return self._client

    async def ping(self) -> None:
        """PING the server."""
        try:
            await self._redis().ping()
        except (OSError, aioredis.RedisError) as err:
            raise BusUnavailable(f"Redis is unreachable: {err}") from err

    async def publish(self, changes: Sequence[Change]) -> None:
        """XADD every change in one pipeline."""
        fresh = [c for c in changes if c.op is not ChangeOp.UNCHANGED]
        if not fresh:
            return
        try:
            async with self._redis().pipeline(transaction=False) as pipe:
                for change in fresh:
                    pipe.xadd(self._stream, encode_change(change), maxlen=self._maxlen, approximate=True)
                await pipe.execute()
        except (OSError, aioredis.RedisError) as err:
            raise BusUnavailable(f"publishing to Redis failed: {err}") from err

    async def position(self) -> str:
        """The id of the newest stream entry ("0-0" when empty)."""
        try:
            info = await self._redis().xinfo_stream(self._stream)
        except aioredis.ResponseError:
            return "0-0"  # no such stream yet
        except (OSError, aioredis.RedisError) as err:
            raise BusUnavailable(f"Redis is unreachable: {err}") from err
        last = info.get("last-generated-id") or info.get(b"last-generated-id") or b"0-0"
        return last.decode() if isinstance(last, bytes) else str(last)

    async def subscribe(self, after: str) -> AsyncIterator[tuple[str, Change]]:
        """Blocking XREAD from ``after``; a connection failure raises BusUnavailable to the caller."""
        last = after
        while not self._stopped:
            try:
                batches = await self._redis().xread({self._stream: last}, count=500, block=1000)
            except (OSError, aioredis.RedisError) as err:
                raise BusUnavailable(f"reading the Redis stream failed: {err}") from err
            for _stream, entries in batches:
                for entry_id, fields in entries:
                    last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    try:
                        change = decode_change(fields)
                    except (KeyError, ValueError) as err:
                        log.warning("skipping malformed bus entry %s: %s", last, err)
                        continue
                    yield last, change


def make_bus(redis_url: str | None, stream: str) -> ChangeBus:
    """Redis Streams when a URL is configured, else the in-process bus."""
    return RedisBus(redis_url, stream=stream) if redis_url else InProcessBus()

