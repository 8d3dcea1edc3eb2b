"""The read model follows the bus and recovers from the store when it misses changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.factories import event
from travel.bus import InProcessBus
from travel.ingest import commit
from travel.models import Kind
from travel.readmodel import ReadModel, follow
from travel.store.embedded import EmbeddedStore


async def test_a_burst_larger_than_the_bus_window_is_caught_up_from_the_store(tmp_path: Path) -> None:
    store, bus, model = EmbeddedStore(tmp_path / "t.sqlite3"), InProcessBus(retain=10), ReadModel()
    await store.open()
    await bus.start()
    task = asyncio.create_task(follow(model, store, bus, max_backoff_s=0.1))
    try:
        await asyncio.wait_for(model.ready.wait(), 5)
        await commit(store, bus, [event(str(i)) for i in range(200)])  # 20× the window in one burst

        async def all_there() -> None:
            while len(model.view(Kind.EVENT)) < 200:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(all_there(), 10)
        await commit(store, bus, [event("7", version=2, status="cleared")])

        async def updated() -> None:
            while model.view(Kind.EVENT).records["gsj:7"].version != 2:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(updated(), 5)
        assert len(model.view(Kind.EVENT)) == 200
        assert not model.view(Kind.EVENT).records["gsj:7"].active
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.stop()
        await store.close()


def test_a_summary_is_kept_until_the_view_changes() -> None:
    view = ReadModel().view(Kind.EVENT)
    built: list[int] = []

    def count(v: object) -> int:
        built.append(1)
        return len(view)

    view.put(event("1"))
    assert view.summary(count) == view.summary(count) == 1
    view.put(event("2"))
    assert view.summary(count) == 2
    assert len(built) == 2
