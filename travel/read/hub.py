"""The change hub: this process's recent changes, in bus order, for live streams (SSE) to replay and follow.

The read model feeds it as it applies the bus, so a stream never shows a change before the lists do.
A client reconnecting with ``Last-Event-ID`` replays from the retained window; one whose position has
left the window is told to reload (``reset``) instead of silently missing changes.

Every entry has an event id. A change read from the bus is named by its bus position, which every
process shares. A change caught up from the store after a bus outage has no bus position: it is named
``<the bus position before it>~<this hub's tag>.<sequence>``. Here that id resumes exactly after it;
another process (or this one after a restart) does not know it and resumes after the bus position
before the "~" instead, so the client sees the caught-up changes again rather than missing any.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from travel.store.base import Change


@dataclass(frozen=True, slots=True)
class Entry:
    """One change with its bus position (None for changes caught up from the store) and its event id."""

    seq: int
    position: str | None
    change: Change
    event_id: str


class Reset(Exception):
    """The requested position is no longer retained: the client must reload its lists."""


class ChangeHub:
    """A bounded, in-order window of recent changes and a condition that wakes followers."""

    def __init__(self, retain: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=retain)
        self._seq = 0
        self._tag = secrets.token_hex(4)  # tells this hub's caught-up ids from another's
        self._bus_position = ""  # the last bus position published
        self._cond = asyncio.Condition()
        self._closed = False

    async def publish(self, position: str | None, change: Change) -> None:
        """Append a change and wake followers."""
        async with self._cond:
            self._seq += 1
            if position is not None:
                self._bus_position = event_id = position
            else:
                event_id = f"{self._bus_position}~{self._tag}.{self._seq}"
            self._entries.append(Entry(self._seq, position, change, event_id))
            self._cond.notify_all()

    async def close(self) -> None:
        """End every follower."""
        self._closed = True
        async with self._cond:
            self._cond.notify_all()

    def _start(self, last_position: str | None) -> int:
        """The hub sequence number after which to replay for a client that saw ``last_position``."""
        if last_position is None:
            return self._seq
        for entry in reversed(self._entries):
            if entry.event_id == last_position:
                return entry.seq
        bus_position, caught_up, _ = last_position.partition("~")
        if caught_up and bus_position:
            for entry in reversed(self._entries):
                if entry.position == bus_position:
                    return entry.seq
        raise Reset(f"position {last_position!r} is no longer retained")

    async def follow(self, last_position: str | None, heartbeat_s: float) -> AsyncIterator[Entry | None]:
        """Entries after ``last_position`` (live from now when None); None every ``heartbeat_s`` of quiet."""
        seq = self._start(last_position)
        while not self._closed:
            async with self._cond:
                try:
                    await asyncio.wait_for(self._cond.wait_for(lambda after=seq: self._closed or self._seq > after),
                                           heartbeat_s)
                except TimeoutError:
                    pending: list[Entry] | None = None
                else:
                    if self._entries and self._entries[0].seq > seq + 1:
                        raise Reset("the client fell behind the retained window")
                    pending = [e for e in self._entries if e.seq > seq]
            if pending is None:
                yield None
                continue
            for entry in pending:
                seq = entry.seq
                yield entry
