"""The embedded store: one SQLite file (WAL, fsync per commit or per bulk load) with an R*Tree index, via aiosqlite.

Layout: ``records`` holds the current version of every record (indexed columns plus the JSON body
and the geometry as WKB), ``history`` every superseded version (so each committed version is stored
exactly once and importing new records writes no history), and ``records_rtree`` the bounding
box of each current record that has a geometry, keyed by ``records.rid``. The R*Tree has a third
axis holding a small integer per kind, so a spatial lookup of sparse events never walks the dense
road network. The R*Tree only yields candidates; exact predicates and distances are computed with
``travel.core.spatial`` on the shapely geometries.

Two connections are kept: a writer that runs each upsert as one ``BEGIN IMMEDIATE`` transaction
(serialized by a lock, which is also what keeps ``ingested_at`` in commit order) and a query-only
reader, so reads see committed snapshots and never queue behind a large import.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

import aiosqlite
import shapely
from shapely.geometry.base import BaseGeometry

from travel.core.errors import StoreUnavailable
from travel.core.records import Kind, Record, record_from_json
from travel.core.spatial import EARTH_RADIUS_M, degree_box, distance_between_m, distance_m, metres_to_degrees
from travel.store.base import Along, BBox, Change, ChangeOp, Nearest, Query, Row, to_rows

# --------------------------------------------------------------------------- schema
# Each migration is a tuple of statements ending with the user_version it brings the file to; they
# run in one transaction together with the version check, so concurrent openers apply each once.
_SCHEMA_V1: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS records (
        rid         INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        source      TEXT    NOT NULL,
        road        TEXT,
        active      INTEGER NOT NULL,
        ingested_at TEXT    NOT NULL,
        geometry    BLOB,
        body        TEXT    NOT NULL,
        UNIQUE (kind, id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS records_kind_ingested ON records (kind, ingested_at)",
    "CREATE INDEX IF NOT EXISTS records_kind_road ON records (kind, road)",
    "CREATE INDEX IF NOT EXISTS records_kind_source ON records (kind, source)",
    """
    CREATE TABLE IF NOT EXISTS history (
        kind        TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        ingested_at TEXT    NOT NULL,
        body        TEXT    NOT NULL,
        PRIMARY KEY (kind, id, version),
        FOREIGN KEY (kind, id) REFERENCES records (kind, id)
    )
    """,
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS records_rtree
    USING rtree (rid, min_x, max_x, min_y, max_y, min_k, max_k)
    """,
    "PRAGMA user_version = 1",
)
# Version 2: history keeps superseded versions only; the current one is the records row.
_SCHEMA_V2: tuple[str, ...] = (
    """
    DELETE FROM history
    WHERE EXISTS (SELECT 1 FROM records AS r
                  WHERE r.kind = history.kind AND r.id = history.id AND r.version = history.version)
    """,
    "PRAGMA user_version = 2",
)
_MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1, _SCHEMA_V2)

# A bulk load (see ``EmbeddedStore.bulk``) syncs the WAL only when it checkpoints, and lets it grow to
# _BULK_CHECKPOINT_PAGES pages first, so the hot R*Tree and index pages reach the file once per
# checkpoint instead of once per 4 MiB (SQLite's default, _CHECKPOINT_PAGES) and fsync is rare.
_CHECKPOINT_PAGES = 1000
_BULK_CHECKPOINT_PAGES = 65536
_BULK_PRAGMAS = ("PRAGMA synchronous = NORMAL", f"PRAGMA wal_autocheckpoint = {_BULK_CHECKPOINT_PAGES}")
_DURABLE_PRAGMAS = ("PRAGMA synchronous = FULL", f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
_WRITER_PRAGMAS = (
    *_DURABLE_PRAGMAS,
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -65536",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA journal_size_limit = 67108864",  # a bulk load's big WAL shrinks back to 64 MiB once reused
)
_READER_PRAGMAS = (
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -65536",
    "PRAGMA query_only = ON",
)
_JOURNAL_WAL = "PRAGMA journal_mode = WAL"
_USER_VERSION = "PRAGMA user_version"
_BEGIN = "BEGIN IMMEDIATE"
_COMMIT = "COMMIT"
_PING = "SELECT count(*) FROM sqlite_schema"

# --------------------------------------------------------------------------- statements
_MAX_INGESTED = "SELECT max(ingested_at) FROM records WHERE kind = ?"
_MAX_RID = "SELECT coalesce(max(rid), 0) FROM records"
_EXISTING = "SELECT id, version, rid FROM records WHERE kind = ? AND id IN (SELECT value FROM json_each(?))"
# Rows are inserted by statements of many VALUES rows each (see ``_insert``).
_INSERT_RECORDS = "INSERT INTO records (rid, kind, id, version, source, road, active, ingested_at, geometry, body)"
_RECORD_WIDTH = 10
_UPDATE_RECORD = """
    UPDATE records
    SET kind = ?, id = ?, version = ?, source = ?, road = ?, active = ?, ingested_at = ?, geometry = ?, body = ?
    WHERE rid = ?
"""
_UPSERT_BOXES = "INSERT OR REPLACE INTO records_rtree (rid, min_x, max_x, min_y, max_y, min_k, max_k)"
_BOX_WIDTH = 7
_DELETE_BOX = "DELETE FROM records_rtree WHERE rid = ?"
_INSERT_HISTORY = "INSERT INTO history (kind, id, version, ingested_at, body) VALUES (?, ?, ?, ?, ?)"
_ARCHIVE = """
    INSERT INTO history (kind, id, version, ingested_at, body)
    SELECT kind, id, version, ingested_at, body FROM records WHERE rid = ?
"""

_GET = "SELECT body FROM records WHERE kind = ? AND id = ?"
_HISTORY = """
    SELECT version, body FROM history WHERE kind = :kind AND id = :id
    UNION ALL
    SELECT version, body FROM records WHERE kind = :kind AND id = :id
    ORDER BY version
"""
_COUNTS = "SELECT kind, count(*) FROM records GROUP BY kind"
_CHANGED_SINCE = """
    SELECT kind, body FROM records
    WHERE kind IN (SELECT value FROM json_each(?)) AND ingested_at > ?
    ORDER BY ingested_at
"""
_PAGE = "SELECT id, body FROM records WHERE kind = ? AND id > ? ORDER BY id LIMIT ?"
_BODIES = "SELECT rid, kind, body FROM records WHERE rid IN (SELECT value FROM json_each(?))"

# Query building: a base statement, then any of the filter fragments, all with named parameters.
_SELECT_KIND = "SELECT r.kind, r.body FROM records AS r WHERE r.kind = :kind"
_SELECT_GEOMETRIES = "SELECT r.rid, r.id, r.geometry FROM records AS r WHERE r.kind = :kind AND r.geometry IS NOT NULL"
_SELECT_IN_BOX = """
    SELECT r.rid, r.id, r.geometry
    FROM records_rtree AS b CROSS JOIN records AS r ON r.rid = b.rid
    WHERE b.min_x <= :east AND b.max_x >= :west AND b.min_y <= :north AND b.max_y >= :south
      AND b.min_k <= :kind_mid AND b.max_k >= :kind_mid AND r.kind = :kind
"""
_FILTER_SOURCE = " AND r.source = :source"
_FILTER_ROAD = " AND r.road = :road"
_FILTER_ACTIVE = " AND r.active = :active"
_FILTER_SINCE = " AND r.ingested_at > :since"
_FILTER_IDS = " AND r.id IN (SELECT value FROM json_each(:ids))"
_ORDER_BY_ID = " ORDER BY r.id"
_LIMIT = " LIMIT :limit"

# --------------------------------------------------------------------------- tuning
_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 900  # ids per lookup statement
# VALUES rows per insert statement: a bulk load spends ~17 µs a record in SQLite instead of ~20 with one
# row per statement (fewer steps and resets; 50 rows ~18 µs, 500 ~17).
_ROWS_PER_INSERT = 100
_NEAREST_START_M = 1_000.0
_HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M  # no two points on Earth are farther apart
_CORRIDOR_STEP_DEG = 0.25  # an along-line query looks up boxes this big, not the route's whole bbox

_Key = tuple[Kind, str]
_Box = tuple[float, float, float, float]  # west, south, east, north
_Candidate = tuple[int, str, BaseGeometry]  # rid, id, geometry
_Ranked = tuple[float, str, int]  # distance, id, rid


class _Clock:
    """Commit stamps, as microseconds since the epoch: later than every earlier one, even within one clock microsecond.

    Integers formatted from a cached text of their second, as an import stamps every record it writes.
    """

    __slots__ = ("last", "_second", "_prefix")

    def __init__(self, last: datetime | None = None) -> None:
        self.last = -1 if last is None else (last - _EPOCH) // _TICK
        self._second, self._prefix = -1, ""

    def stamp(self) -> int:
        """The next stamp: now, or a microsecond after the last one."""
        now = time.time_ns() // 1000
        if now <= self.last:
            now = self.last + 1
        self.last = now
        return now

    def texts(self, micros: int) -> tuple[str, str]:
        """A stamp as ``_format_time`` writes it (the ingested_at column) and as ``json_time`` does (the body)."""
        second, micro = divmod(micros, 1_000_000)
        if second != self._second:
            self._second, self._prefix = second, _datetime(micros - micro).isoformat()[:19]
        column = f"{self._prefix}.{micro:06d}Z"
        return column, f'"{column}"' if micro else f'"{self._prefix}Z"'


def _datetime(micros: int) -> datetime:
    """A stamp of ``_Clock`` as an aware datetime (UTC)."""
    return _EPOCH + timedelta(microseconds=micros)


class EmbeddedStore:
    """The single-file store: no server to run, durable on commit, geo-indexed by an R*Tree."""

    name = "embedded"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._clock = _Clock()
        self._write_lock = asyncio.Lock()
        self._bulk_loads = 0

    # ----------------------------------------------------------------------- lifecycle
    async def open(self) -> None:
        """Open (creating the file and schema if needed) so the store can serve; idempotent."""
        if self._writer is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await aiosqlite.connect(self.path, isolation_level=None)
            await self._prepare_writer(self._writer)
            self._reader = await aiosqlite.connect(self.path, isolation_level=None)
            await _run_all(self._reader, _READER_PRAGMAS)
            self._clock = _Clock(await self._max_ingested())
        except (OSError, sqlite3.Error) as err:
            await self.close()
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {err}") from err

    async def close(self) -> None:
        """Close both connections (checkpointing the WAL); the store may be opened again."""
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the file can be read right now (health checks)."""
        try:
            await self._read().execute_fetchall(_PING)
        except (sqlite3.Error, ValueError) as err:
            raise StoreUnavailable(f"the embedded store at {self.path} does not answer: {err}") from err

    async def _prepare_writer(self, db: aiosqlite.Connection) -> None:
        """Switch to WAL, set durability and integrity pragmas, and bring the schema up to date."""
        [(mode,)] = await db.execute_fetchall(_JOURNAL_WAL)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"the file system does not support WAL (journal mode {mode!r})")
        await _run_all(db, _WRITER_PRAGMAS)
        await db.execute(_BEGIN)
        try:
            [(version,)] = await db.execute_fetchall(_USER_VERSION)
            if version > len(_MIGRATIONS):
                raise sqlite3.OperationalError(f"schema version {version} is newer than this code knows")
            for migration in _MIGRATIONS[version:]:
                await _run_all(db, migration)
            await db.execute(_COMMIT)
        finally:
            await _rollback(db)

    async def _max_ingested(self) -> datetime | None:
        """The latest ingested_at in the file, so stamps keep increasing across restarts."""
        latest: str | None = None
        for kind in Kind:
            [(value,)] = await self._read().execute_fetchall(_MAX_INGESTED, (kind.value,))
            if value is not None and (latest is None or value > latest):
                latest = value
        return None if latest is None else datetime.fromisoformat(latest)

    def _read(self) -> aiosqlite.Connection:
        """The reader connection, or StoreUnavailable when the store is not open."""
        if self._reader is None:
            raise StoreUnavailable(f"the embedded store at {self.path} is not open")
        return self._reader

    def _write(self) -> aiosqlite.Connection:
        """The writer connection, or StoreUnavailable when the store is not open."""
        if self._writer is None:
            raise StoreUnavailable(f"the embedded store at {self.path} is not open")
        return self._writer

    # ----------------------------------------------------------------------- writes
    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """A bulk load (an import) is under way: commits skip their fsync until it ends.

        Each commit stays atomic and a crash of the process loses nothing committed; only a power
        loss could drop the last commits, and the import is re-run (it is idempotent). On leaving
        the block the WAL is synced, so everything the bulk load committed is durable, and the
        store is back to fsync on every commit. Nested or concurrent bulk loads share the mode.
        """
        async with self._write_lock:
            if not self._bulk_loads:
                await _run_all(self._write(), _BULK_PRAGMAS)
            self._bulk_loads += 1
        try:
            yield
        finally:
            async with self._write_lock:
                self._bulk_loads -= 1
                if not self._bulk_loads and self._writer is not None:
                    await _run_all(self._writer, _DURABLE_PRAGMAS)
                    await asyncio.to_thread(_fsync, self.path.with_name(self.path.name + "-wal"))

    async def upsert(self, records: Sequence[Record]) -> list[Change]:
        """Commit a batch in one transaction: every newer version lands, or nothing does."""
        return await self._upsert(to_rows(records), records)

    async def upsert_rows(self, rows: Sequence[Row]) -> list[Change]:
        """``upsert`` of records serialized beforehand (an import's): their changes decode lazily."""
        return await self._upsert(rows, None)

    async def _upsert(self, rows: Sequence[Row], records: Sequence[Record] | None) -> list[Change]:
        """Commit ``rows`` in one transaction; changes carry ``records`` (stamped) when given."""
        if not rows:
            return []
        async with self._write_lock:
            db = self._write()
            await db.execute(_BEGIN)
            try:
                existing = await self._existing(db, rows)
                changes = await self._write_rows(db, rows, records, existing)
                await db.execute(_COMMIT)
            except BaseException as err:
                err.add_note(f"upsert of {len(rows)} records rolled back; nothing was stored")
                raise
            finally:
                await _rollback(db)
        return changes

    async def _existing(self, db: aiosqlite.Connection, rows: Sequence[Row]) -> dict[_Key, tuple[int, int]]:
        """(version, rid) of the stored records the batch touches, in a few chunked lookups."""
        ids_by_kind: dict[Kind, list[str]] = {}
        for row in rows:
            ids_by_kind.setdefault(row.kind, []).append(row.id)
        found: dict[_Key, tuple[int, int]] = {}
        for kind, ids in ids_by_kind.items():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), _CHUNK):
                chunk = json.dumps(unique[start : start + _CHUNK])
                for record_id, version, rid in await db.execute_fetchall(_EXISTING, (kind.value, chunk)):
                    found[(kind, record_id)] = (version, rid)
        return found

    async def _write_rows(
        self,
        db: aiosqlite.Connection,
        rows: Sequence[Row],
        records: Sequence[Record] | None,
        existing: dict[_Key, tuple[int, int]],
    ) -> list[Change]:
        """Stamp the rows that win, in input order, and write them.

        Superseded current rows go to history before they are overwritten; a version superseded
        within the batch goes straight to history, after the records it refers to are written.
        """
        ops, last = _decide(rows, existing)
        [(next_rid,)] = await db.execute_fetchall(_MAX_RID)
        changes: list[Change] = []
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        boxes: list[tuple[Any, ...]] = []
        unboxed: list[tuple[int]] = []
        history: list[tuple[Any, ...]] = []
        for i, row in enumerate(rows):
            op = ops[i]
            if op is ChangeOp.UNCHANGED:
                changes.append(Change(op, records[i]) if records is not None
                               else Change.of_body(op, row.kind, row.body("null")))
                continue
            micros = self._clock.stamp()
            stamp, stamp_json = self._clock.texts(micros)
            body = row.body(stamp_json)
            changes.append(Change(op, records[i].model_copy(update={"ingested_at": _datetime(micros)}))
                           if records is not None else Change.of_body(op, row.kind, body))
            kind = _KIND_VALUES[row.kind]
            if i not in last:
                history.append((kind, row.id, row.version, stamp, body))
                continue
            stored = existing.get((row.kind, row.id))
            if stored is None:
                next_rid += 1
                rid = next_rid
                inserts.append((rid, kind, row.id, row.version, row.source, row.road, int(row.active), stamp,
                                row.wkb, body))
            else:
                rid = stored[1]
                updates.append((kind, row.id, row.version, row.source, row.road, int(row.active), stamp,
                                row.wkb, body, rid))
            if row.bounds is not None:
                west, south, east, north = row.bounds
                kind_key = _KIND_KEYS[row.kind]
                boxes.append((rid, west, east, south, north, kind_key, kind_key + 1))
            elif stored is not None:
                unboxed.append((rid,))
        await db.executemany(_ARCHIVE, [(rid,) for *_, rid in updates])  # before they are overwritten
        await db.executemany(_UPDATE_RECORD, updates)
        await _insert(db, _INSERT_RECORDS, _RECORD_WIDTH, inserts)
        await _insert(db, _UPSERT_BOXES, _BOX_WIDTH, boxes)
        await db.executemany(_DELETE_BOX, unboxed)
        await db.executemany(_INSERT_HISTORY, history)
        return changes

    # ----------------------------------------------------------------------- reads
    async def get(self, kind: Kind, record_id: str) -> Record | None:
        """The current version of one record, or None."""
        rows = await self._read().execute_fetchall(_GET, (kind.value, record_id))
        return next((record_from_json(kind, body) for (body,) in rows), None)

    async def history(self, kind: Kind, record_id: str) -> list[Record]:
        """Every committed version of one record, oldest first."""
        rows = await self._read().execute_fetchall(_HISTORY, {"kind": kind.value, "id": record_id})
        return [record_from_json(kind, body) for _, body in rows]

    async def changed_since(self, since: datetime | None, kinds: Sequence[Kind] | None = None) -> list[Record]:
        """Current records committed after ``since``, oldest commit first (incremental sync)."""
        wanted = json.dumps([kind.value for kind in (Kind if kinds is None else kinds)])
        after = "" if since is None else _format_time(since)
        rows = await self._read().execute_fetchall(_CHANGED_SINCE, (wanted, after))
        return [record_from_json(Kind(kind), body) for kind, body in rows]

    async def counts(self) -> dict[Kind, int]:
        """Number of current records per kind; kinds with none are omitted."""
        rows = await self._read().execute_fetchall(_COUNTS)
        return {Kind(kind): count for kind, count in rows if count}

    async def iter_kind(self, kind: Kind, batch: int = 5000) -> AsyncIterator[Record]:
        """Stream every current record of ``kind`` in id order, one keyset page at a time."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        after = ""
        while True:
            rows = await self._read().execute_fetchall(_PAGE, (kind.value, after, batch))
            for _, body in rows:
                yield record_from_json(kind, body)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    # ----------------------------------------------------------------------- queries
    async def query(self, query: Query) -> list[Record]:
        """Current records matching ``query``: by distance for near/nearest/along, else by id."""
        filters, params = _filters(query)
        if query.bbox is not None:
            ranked = await self._in_bbox(query.bbox, filters, params)
        elif query.near is not None:
            near = query.near
            candidates = await self._candidates([degree_box(near.lon, near.lat, near.radius_m)], filters, params)
            ranked = _rank(candidates, lambda g: distance_m(g, near.lon, near.lat), near.radius_m)
        elif query.along is not None:
            along = query.along
            candidates = await self._candidates(_corridor(along), filters, params)
            ranked = _rank(candidates, lambda g: distance_between_m(g, along.line), along.distance_m)
        elif query.nearest is not None:
            ranked = await self._nearest(query.nearest, filters, params)
        else:
            return await self._attributes_only(query, filters, params)
        if query.limit is not None:
            ranked = ranked[: query.limit]
        return await self._load([rid for _, _, rid in ranked])

    async def _attributes_only(self, query: Query, filters: str, params: dict[str, Any]) -> list[Record]:
        """A query without a spatial predicate, ordered and limited by the database."""
        sql = _SELECT_KIND + filters + _ORDER_BY_ID
        if query.limit is not None:
            sql += _LIMIT
            params["limit"] = query.limit
        rows = await self._read().execute_fetchall(sql, params)
        return [record_from_json(Kind(kind), body) for kind, body in rows]

    async def _in_bbox(self, bbox: BBox, filters: str, params: dict[str, Any]) -> list[_Ranked]:
        """Records whose geometry intersects the box, in id order."""
        box = (bbox.west, bbox.south, bbox.east, bbox.north)
        candidates = await self._candidates([box], filters, params)
        hits = shapely.intersects([geom for _, _, geom in candidates], shapely.box(*box))
        return sorted((0.0, record_id, rid) for (rid, record_id, _), hit in zip(candidates, hits, strict=True) if hit)

    async def _nearest(self, nearest: Nearest, filters: str, params: dict[str, Any]) -> list[_Ranked]:
        """The k nearest: widen the search circle until k hits lie inside it (or nothing is left)."""
        if nearest.k <= 0:
            return []
        ceiling = _HALF_CIRCUMFERENCE_M if nearest.max_m is None else min(nearest.max_m, _HALF_CIRCUMFERENCE_M)
        radius = min(_NEAREST_START_M, ceiling)
        while True:
            if radius >= _HALF_CIRCUMFERENCE_M:
                candidates = await self._with_geometry(filters, params)
            else:
                candidates = await self._candidates([degree_box(nearest.lon, nearest.lat, radius)], filters, params)
            ranked = _rank(candidates, lambda g: distance_m(g, nearest.lon, nearest.lat), radius)
            if len(ranked) >= nearest.k or radius >= ceiling:
                return ranked[: nearest.k]
            radius = min(radius * 2, ceiling)

    async def _candidates(self, boxes: Iterable[_Box], filters: str, params: dict[str, Any]) -> list[_Candidate]:
        """Records of the query's kind whose R*Tree box meets any of ``boxes`` (deduplicated)."""
        sql = _SELECT_IN_BOX + filters
        found: dict[int, tuple[str, bytes]] = {}
        for west, south, east, north in boxes:
            box = {"west": west, "south": south, "east": east, "north": north}
            for rid, record_id, wkb in await self._read().execute_fetchall(sql, params | box):
                found[rid] = (record_id, wkb)
        geoms = shapely.from_wkb([wkb for _, wkb in found.values()])
        return [(rid, record_id, geom) for (rid, (record_id, _)), geom in zip(found.items(), geoms, strict=True)]

    async def _with_geometry(self, filters: str, params: dict[str, Any]) -> list[_Candidate]:
        """Every record of the query's kind that has a geometry (the search covers the globe)."""
        rows = await self._read().execute_fetchall(_SELECT_GEOMETRIES + filters, params)
        geoms = shapely.from_wkb([wkb for _, _, wkb in rows])
        return [(rid, record_id, geom) for (rid, record_id, _), geom in zip(rows, geoms, strict=True)]

    async def _load(self, rids: list[int]) -> list[Record]:
        """Decode the bodies of the given records, keeping the order of ``rids``."""
        if not rids:
            return []
        rows = await self._read().execute_fetchall(_BODIES, (json.dumps(rids),))
        by_rid = {rid: record_from_json(Kind(kind), body) for rid, kind, body in rows}
        return [by_rid[rid] for rid in rids]


# --------------------------------------------------------------------------- helpers
async def _run_all(db: aiosqlite.Connection, statements: Iterable[str]) -> None:
    """Execute statements one after another."""
    for statement in statements:
        await db.execute(statement)


def _decide(rows: Sequence[Row], existing: dict[_Key, tuple[int, int]]) -> tuple[list[ChangeOp], set[int]]:
    """Each row's fate in input order, and the rows that end up current (the last winning one of each record)."""
    versions = {key: version for key, (version, _) in existing.items()}
    ops: list[ChangeOp] = []
    last: dict[_Key, int] = {}
    for i, row in enumerate(rows):
        key = (row.kind, row.id)
        held = versions.get(key)
        if held is not None and row.version <= held:
            ops.append(ChangeOp.UNCHANGED)
            continue
        ops.append(ChangeOp.CREATED if held is None else ChangeOp.UPDATED)
        versions[key] = row.version
        last[key] = i
    return ops, set(last.values())


async def _insert(db: aiosqlite.Connection, insert: str, width: int, rows: list[tuple[Any, ...]]) -> None:
    """Run ``insert`` (an INSERT up to VALUES) for ``rows`` of ``width`` values, ``_ROWS_PER_INSERT`` a statement."""
    whole = len(rows) - len(rows) % _ROWS_PER_INSERT
    if whole:
        await db.executemany(_values(insert, width, _ROWS_PER_INSERT),
                             [tuple(chain.from_iterable(rows[i : i + _ROWS_PER_INSERT]))
                              for i in range(0, whole, _ROWS_PER_INSERT)])
    if whole < len(rows):
        await db.execute(_values(insert, width, len(rows) - whole), tuple(chain.from_iterable(rows[whole:])))


@functools.cache
def _values(insert: str, width: int, count: int) -> str:
    """``insert`` with ``count`` VALUES rows of ``width`` parameters."""
    row = "(" + ", ".join("?" * width) + ")"
    return f"{insert} VALUES {', '.join([row] * count)}"


async def _rollback(db: aiosqlite.Connection) -> None:
    """Roll back if a transaction is still open (a no-op after COMMIT)."""
    if db.in_transaction:
        await db.rollback()


def _fsync(path: Path) -> None:
    """Flush a file to disk (the WAL after a bulk load: the fsync its commits skipped); none is fine.

    Without a WAL file every commit has been checkpointed, and checkpoints sync the database file.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _format_time(value: datetime) -> str:
    """An aware datetime as fixed-width UTC text (YYYY-MM-DDTHH:MM:SS.ffffffZ): text order is time order."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} is ambiguous; give a time zone")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _kind_key(kind: Kind) -> int:
    """A stable integer per kind: the kind's slot [key, key + 1] on the R*Tree's third axis.

    The slot has unit width because a zero-width axis makes every box's volume zero, which defeats
    the R* insertion heuristics (lookups became ~300x slower). Keys stay below 2**23 so that key,
    key + 1 and the probe key + 0.5 are exact in the R*Tree's float32 coordinates.
    """
    return zlib.crc32(kind.value.encode()) & 0x7FFFFF


_KIND_KEYS = {kind: _kind_key(kind) for kind in Kind}
_KIND_VALUES = {kind: kind.value for kind in Kind}  # a dict lookup costs a fifth of the enum's ``value``


def _filters(query: Query) -> tuple[str, dict[str, Any]]:
    """The attribute-filter SQL fragments of ``query`` and their named parameters."""
    sql = ""
    params: dict[str, Any] = {"kind": query.kind.value, "kind_mid": _KIND_KEYS[query.kind] + 0.5}
    if query.source is not None:
        sql += _FILTER_SOURCE
        params["source"] = query.source
    if query.road is not None:
        sql += _FILTER_ROAD
        params["road"] = query.road
    if query.active is not None:
        sql += _FILTER_ACTIVE
        params["active"] = int(query.active)
    if query.since is not None:
        sql += _FILTER_SINCE
        params["since"] = _format_time(query.since)
    if query.ids is not None:
        sql += _FILTER_IDS
        params["ids"] = json.dumps(sorted(query.ids))
    return sql, params


def _rank(candidates: list[_Candidate], measure: Callable[[BaseGeometry], float], within_m: float) -> list[_Ranked]:
    """Candidates no farther than ``within_m``, nearest first (ties by id)."""
    ranked = []
    for rid, record_id, geom in candidates:
        distance = measure(geom)
        if distance <= within_m:
            ranked.append((distance, record_id, rid))
    ranked.sort()
    return ranked


def _corridor(along: Along) -> list[_Box]:
    """Small boxes that together cover the line buffered by ``distance_m``, piece by piece."""
    _, south, _, north = along.line.bounds
    pad = metres_to_degrees(along.distance_m, max(abs(south), abs(north)))  # ≥ the latitude pad too
    coords = shapely.get_coordinates(shapely.segmentize(along.line, _CORRIDOR_STEP_DEG)).tolist()
    boxes: list[_Box] = []
    px, py = coords[0]
    x0, y0, x1, y1 = px, py, px, py
    for x, y in coords[1:]:
        if max(max(x1, x) - min(x0, x), max(y1, y) - min(y0, y)) > _CORRIDOR_STEP_DEG:
            boxes.append((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
            x0, y0, x1, y1 = px, py, px, py  # the next piece starts where this segment does
        x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
        px, py = x, y
    boxes.append((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    return boxes
