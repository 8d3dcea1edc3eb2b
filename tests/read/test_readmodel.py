"""The read model follows the bus and recovers from the store when it misses changes."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC
from operator import attrgetter
from pathlib import Path

from api.geojson import Features, feature_collection
from tests.factories import event, poi
from travel.core.crs import Crs
from travel.core.records import Kind
from travel.ingest.commit import commit
from travel.read.readmodel import ReadModel, follow
from travel.read.selection import ByRecord, select
from travel.store.base import BBox
from travel.store.bus import InProcessBus
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


def test_records_per_source_count_active_ones_and_follow_changes() -> None:
    model = ReadModel()
    model.apply([event("1"), event("2"), event("3", source="jtt"), event("5", source="geodata"),
                 poi("p1", 113.8, 34.0)])
    assert model.counts_by_source() == {"gsj": {"event": 2}, "jtt": {"event": 1}, "geodata": {"event": 1, "poi": 1}}
    model.apply([event("2", version=2, status="cleared"), event("4", source="jtt")])
    assert model.counts_by_source() == {"gsj": {"event": 1}, "jtt": {"event": 2}, "geodata": {"event": 1, "poi": 1}}
    model.apply([event("1", version=2, status="cleared"), poi("p2", 113.9, 34.1)])
    assert model.counts_by_source() == {"jtt": {"event": 2}, "geodata": {"event": 1, "poi": 2}}  # no gsj one left


def test_a_dropped_read_model_leaves_no_reference_cycles() -> None:
    """What the read model replaces is freed by reference counting alone, so freezing the loaded heap
    (``api.app.freeze_loaded_heap``) keeps nothing alive that a collection would have freed."""

    def load_query_and_drop() -> None:
        model, features = ReadModel(), Features(UTC)
        model.apply([event(str(i), lon=113 + i / 100, lat=34 + i / 200) for i in range(200)]
                    + [poi(f"p{i}", 113 + i / 100, 34.5) for i in range(200)])
        for kind in (Kind.EVENT, Kind.POI):
            view = model.view(kind)
            select(view, near=(113.5, 34.2, 50_000.0), keep=ByRecord(attrgetter("active")), limit=20)
            selection = select(view, bbox=BBox(113, 34, 114, 35), order=attrgetter("id"))
            feature_collection(features, view, selection, Crs.WGS84, {"count": len(selection.ids)})
            model.apply([event("1", version=2)])  # a replaced record, and the index it was in dropped

    load_query_and_drop()  # first calls load the compiled kernels: one-off garbage of numba's own
    gc.collect()
    gc.disable()
    try:
        load_query_and_drop()
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_a_served_app_freezes_its_loaded_heap(app_client) -> None:  # noqa: ANN001
    assert gc.get_freeze_count() > 10_000  # the modules, the app and its read model: left to reference counting
