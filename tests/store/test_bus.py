"""The change bus: both implementations deliver in order, resume from a position, and fan out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.factories import event
from tests.services import redis_url
from travel.core.errors import BusUnavailable
from travel.store.base import Change, ChangeOp
from travel.store.bus import ChangeBus, InProcessBus, RedisBus


@pytest.fixture(params=["in-process", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[ChangeBus]:
    if request.param == "in-process":
        b: ChangeBus = InProcessBus()
        await b.start()
        yield b
        await b.stop()
    else:
        async with redis_url() as (url, prefix):
            b = RedisBus(url, stream=f"{prefix}:changes")
            await b.start()
            yield b
            await b.stop()


def changes(*versions: int, op: ChangeOp = ChangeOp.CREATED) -> list[Change]:
    return [Change(op, event(str(v), version=v)) for v in versions]


async def take(bus: ChangeBus, after: str, n: int) -> list[Change]:
    got: list[Change] = []

    async def run() -> None:
        async for _position, change in bus.subscribe(after):
            got.append(change)
            if len(got) == n:
                return

    await asyncio.wait_for(run(), 5)
    return got


async def test_subscriber_sees_changes_after_its_position(bus: ChangeBus) -> None:
    await bus.publish(changes(1))
    position = await bus.position()
    await bus.publish(changes(2, 3))
    got = await take(bus, position, 2)
    assert [c.record.id for c in got] == ["gsj:2", "gsj:3"]
    assert got[0].record == event("2", version=2)


async def test_unchanged_is_not_published(bus: ChangeBus) -> None:
    position = await bus.position()
    await bus.publish(changes(1, op=ChangeOp.UNCHANGED) + changes(2))
    [only] = await take(bus, position, 1)
    assert only.record.id == "gsj:2" and only.op is ChangeOp.CREATED


async def test_fan_out_to_several_subscribers(bus: ChangeBus) -> None:
    position = await bus.position()
    first = asyncio.create_task(take(bus, position, 2))
    second = asyncio.create_task(take(bus, position, 2))
    await asyncio.sleep(0.05)
    await bus.publish(changes(7, 8))
    a, b = await asyncio.gather(first, second)
    assert [c.record.id for c in a] == [c.record.id for c in b] == ["gsj:7", "gsj:8"]


async def test_ping(bus: ChangeBus) -> None:
    await bus.ping()


async def test_unreachable_redis_is_reported_not_hung() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    await bus.start()
    try:
        with pytest.raises(BusUnavailable):
            await asyncio.wait_for(bus.ping(), 5)
        with pytest.raises(BusUnavailable):
            await asyncio.wait_for(bus.publish(changes(1)), 5)
    finally:
        await bus.stop()


async def test_in_process_subscriber_behind_the_window_is_told_not_silently_skipped() -> None:
    bus = InProcessBus(retain=3)
    await bus.start()
    await bus.publish(changes(1, 2, 3, 4, 5))
    with pytest.raises(BusUnavailable, match="fell behind"):
        await take(bus, "0", 5)
    assert [c.record.id for c in await take(bus, "2", 3)] == ["gsj:3", "gsj:4", "gsj:5"]
    await bus.stop()
