"""The change hub names every change, caught-up ones too, and resumes after any name it gave."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import event
from travel.read.hub import ChangeHub, Entry, Reset
from travel.store.base import Change, ChangeOp


def _change(source_id: str) -> Change:
    return Change(ChangeOp.UPDATED, event(source_id))


async def _after(hub: ChangeHub, last: str | None, count: int) -> list[Entry]:
    """The first ``count`` entries a follower resuming after ``last`` is given."""
    seen: list[Entry] = []
    async for entry in hub.follow(last, heartbeat_s=0.05):
        if entry is not None:
            seen.append(entry)
        if len(seen) == count:
            break
    return seen


async def _published(hub: ChangeHub) -> list[Entry]:
    """Publish four changes, two of them caught up from the store; the entries a live follower saw."""
    live = asyncio.create_task(_after(hub, None, 4))
    await asyncio.sleep(0)  # the follower starts from here
    await hub.publish("1-0", _change("a"))
    await hub.publish(None, _change("b"))  # caught up from the store after a bus outage
    await hub.publish(None, _change("c"))
    await hub.publish("2-0", _change("d"))
    return await live


async def test_caught_up_changes_get_ids_that_resume_exactly_here() -> None:
    hub = ChangeHub()
    entries = await _published(hub)
    ids = [e.event_id for e in entries]
    assert ids[0] == "1-0" and ids[3] == "2-0"
    assert ids[1].startswith("1-0~") and ids[2].startswith("1-0~") and ids[1] != ids[2]
    assert [e.event_id for e in await _after(hub, ids[1], 2)] == ids[2:]


async def test_another_process_resumes_a_caught_up_id_from_the_bus_position_before_it() -> None:
    here, there = ChangeHub(), ChangeHub()
    ids = [e.event_id for e in await _published(here)]
    await _published(there)
    replayed = await _after(there, ids[2], 3)
    assert [e.change.record.source_id for e in replayed] == ["b", "c", "d"]  # again, none missed


async def test_an_unknown_id_is_a_reset() -> None:
    hub = ChangeHub()
    await _published(hub)
    for unknown in ("9-0", "~abcd.1", "9-0~abcd.1"):
        with pytest.raises(Reset):
            await _after(hub, unknown, 1)
