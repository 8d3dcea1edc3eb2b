"""History on both backends: each committed version exactly once, whichever batch superseded it.

Both stores keep the current version in ``records`` and only superseded ones in history (so an
import of new records writes no history); these pin down the cases that split brings: a stored
version superseded by several versions in one batch, and an embedded file written before the split.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.factories import event
from travel.core.records import Kind
from travel.store.base import ChangeOp, Store
from travel.store.embedded import EmbeddedStore


async def test_a_stored_version_superseded_twice_in_one_batch_keeps_all_three(store: Store) -> None:
    await store.upsert([event("1", version=1, severity="minor")])
    changes = await store.upsert([event("1", version=2, severity="moderate"), event("1", version=3, severity="major")])
    assert [c.op for c in changes] == [ChangeOp.UPDATED, ChangeOp.UPDATED]
    history = await store.history(Kind.EVENT, "gsj:1")
    assert [(r.version, r.severity) for r in history] == [(1, "minor"), (2, "moderate"), (3, "major")]
    assert all(r.ingested_at is not None for r in history)
    current = await store.get(Kind.EVENT, "gsj:1")
    assert current is not None and current == history[-1]


async def test_an_embedded_file_from_before_the_split_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "travel.sqlite3"
    store = EmbeddedStore(path)
    await store.open()
    await store.upsert([event("1", version=1)])
    await store.upsert([event("1", version=2, severity="major")])
    await store.close()
    with sqlite3.connect(path) as db:  # back to version 1's layout: every version, current too, in history
        db.execute("INSERT INTO history SELECT kind, id, version, ingested_at, body FROM records")
        db.execute("PRAGMA user_version = 1")
    db.close()

    reopened = EmbeddedStore(path)
    await reopened.open()
    try:
        assert [r.version for r in await reopened.history(Kind.EVENT, "gsj:1")] == [1, 2]
        await reopened.upsert([event("1", version=3)])
        assert [r.version for r in await reopened.history(Kind.EVENT, "gsj:1")] == [1, 2, 3]
    finally:
        await reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("SELECT version FROM history ORDER BY version").fetchall() == [(1,), (2,)]
    db.close()
