"""What only the embedded SQLite store can be asked: its file, its pragmas, its failure modes, its scale."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.factories import event, poi
from travel.core.errors import StoreUnavailable
from travel.core.records import Kind
from travel.store.base import BBox, ChangeOp, Near, Nearest, Query
from travel.store.embedded import EmbeddedStore


async def test_the_file_survives_a_new_store_object(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "travel.sqlite3"
    first = EmbeddedStore(path)
    await first.open()
    [created] = await first.upsert([event("1", version=1)])
    await first.upsert([event("1", version=2)])
    await first.close()

    second = EmbeddedStore(path)
    await second.open()
    try:
        current = await second.get(Kind.EVENT, "gsj:1")
        assert current is not None and current.version == 2
        assert [r.version for r in await second.history(Kind.EVENT, "gsj:1")] == [1, 2]
        [later] = await second.upsert([event("2")])
        stamps = [created.record.ingested_at, current.ingested_at, later.record.ingested_at]
        assert all(stamps) and stamps == sorted(stamps) and len(set(stamps)) == 3
        assert await second.query(Query(Kind.EVENT, near=Near(113.8, 34.2, 100))) != []
    finally:
        await second.close()


async def test_schema_version_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "travel.sqlite3"
    store = EmbeddedStore(path)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert {"records", "history", "records_rtree"} <= tables


async def test_wal_and_full_sync_are_in_effect(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        db = store._writer
        assert db is not None
        assert (await db.execute_fetchall("PRAGMA journal_mode")) == [("wal",)]
        assert (await db.execute_fetchall("PRAGMA synchronous")) == [(2,)]  # 2 = FULL
        assert (await db.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]
        assert (await db.execute_fetchall("PRAGMA busy_timeout"))[0][0] > 0
    finally:
        await store.close()


async def test_a_bulk_load_skips_commit_syncs_and_restores_them_after(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        db = store._writer
        assert db is not None
        async with store.bulk():
            async with store.bulk():  # nested (an import per bundle file): one mode
                await store.upsert([event("1")])
            assert (await db.execute_fetchall("PRAGMA synchronous")) == [(1,)]  # 1 = NORMAL
            await store.upsert([event("2")])
        assert (await db.execute_fetchall("PRAGMA synchronous")) == [(2,)]
        assert (await db.execute_fetchall("PRAGMA wal_autocheckpoint")) == [(1000,)]
        with pytest.raises(RuntimeError):
            async with store.bulk():
                raise RuntimeError("the import failed")
        assert (await db.execute_fetchall("PRAGMA synchronous")) == [(2,)]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "travel.sqlite3") as plain:  # committed in bulk mode, on disk
        assert plain.execute("SELECT count(*) FROM records").fetchone() == (2,)


async def test_open_on_an_unusable_path_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    store = EmbeddedStore(blocker / "travel.sqlite3")
    with pytest.raises(StoreUnavailable, match="cannot open the embedded store"):
        await store.open()
    with pytest.raises(StoreUnavailable):
        await store.ping()


async def test_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.upsert([event("1")])


async def test_naive_since_is_refused(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        with pytest.raises(ValueError, match="naive"):
            await store.changed_since(event("1").updated_at.replace(tzinfo=None))
    finally:
        await store.close()


async def test_geometry_removed_by_a_new_version_leaves_the_spatial_index(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        await store.upsert([event("1", version=1)])
        await store.upsert([event("1", version=2, geometry=None)])
        assert await store.query(Query(Kind.EVENT, bbox=BBox(100, 20, 130, 50))) == []
        await store.upsert([event("1", version=3, lon=114.5, lat=34.6)])
        found = await store.query(Query(Kind.EVENT, near=Near(114.5, 34.6, 50)))
        assert [r.version for r in found] == [3]
    finally:
        await store.close()


async def test_large_batch(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        # A 200 x 100 grid of points 0.01° apart over 许昌-郑州.
        records = [poi(f"{i}-{j}", 113.0 + 0.01 * i, 34.0 + 0.01 * j) for i in range(200) for j in range(100)]
        changes = await store.upsert(records)
        assert len(changes) == 20_000 and all(c.op is ChangeOp.CREATED for c in changes)
        assert await store.counts() == {Kind.POI: 20_000}

        inside = await store.query(Query(Kind.POI, bbox=BBox(113.995, 34.495, 114.045, 34.545)))
        assert len(inside) == 25  # 5 x 5 grid points
        near = await store.query(Query(Kind.POI, nearest=Nearest(114.001, 34.501, k=1)))
        assert [r.id for r in near] == ["geodata:100-50"]

        again = await store.upsert(records[:1000] + [poi("0-0", 113.0, 34.0, version=2)])
        assert [c.op for c in again[:1000]] == [ChangeOp.UNCHANGED] * 1000
        assert again[-1].op is ChangeOp.UPDATED
        streamed = [r.id async for r in store.iter_kind(Kind.POI, batch=3000)]
        assert len(streamed) == 20_000 and streamed == sorted(streamed)
    finally:
        await store.close()
