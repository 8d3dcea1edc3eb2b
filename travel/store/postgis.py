"""The PostgreSQL + PostGIS store: the shared, durable backend for multi-process deployments.

Current records live in ``records``: one row per kind and id, the geometry in a GiST-indexed column
(one partial index per kind) and the whole record as jsonb. Superseded versions move to
``record_history``, so every committed version is stored exactly once and an import of new records is a
single COPY. Distances are geodesic (``geography``, WGS84 ellipsoid); candidates come from the
geometry index through a degree box that surely holds the search radius. The schema is created and
evolved by the versioned migrations in ``travel.store.migrate``.

``ingested_at`` comes from the one-row ``ingest_clock`` table: an upsert locks that row first, takes
``GREATEST(clock_timestamp(), last + 1 µs)`` and commits before the lock is released, so stamps are
strictly increasing and become visible in stamp order across every process writing the database; a
reader that remembers the newest stamp it saw can therefore never miss a later commit.

Connection trouble (server down, restarting, unreachable, timing out) surfaces as ``StoreUnavailable``
so the API answers 503; the pool reconnects by itself once the server is back.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import shapely
import shapely.wkb
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from travel.core.errors import StoreUnavailable
from travel.core.records import Kind, Record, record_from_json
from travel.core.spatial import metres_to_degrees
from travel.store.base import Change, ChangeOp, Nearest, Query, Row, json_time, to_rows
from travel.store.migrate import migrate

log = logging.getLogger(__name__)

SRID = 4326
# An along query looks the line up in boxes this big (degrees). Densified to this step, a lon/lat line
# and its geodesic arcs part by less than ARC_SLACK_M, which the boxes add to their padding.
CORRIDOR_STEP_DEG = 0.25
ARC_SLACK_M = 10.0
MICROSECOND = timedelta(microseconds=1)
_EWKB_SRID_FLAG = 0x20000000
ALL_KINDS = [k.value for k in Kind]

# ----------------------------------------------------------------------------------------- setup
POSTGIS_SCHEMA_SQL = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'"
# Per connection (pool init): the staging table of upsert, emptied at every commit or rollback.
CREATE_STAGING_SQL = "CREATE TEMP TABLE upsert_batch (LIKE records) ON COMMIT DELETE ROWS"
RECORD_COLUMNS = ("kind", "id", "version", "source", "road", "active", "ingested_at", "geom", "body")
PING_SQL = "SELECT 1"

# ---------------------------------------------------------------------------------------- upsert
LOCK_CLOCK_SQL = "SELECT last_at FROM ingest_clock FOR UPDATE"
CURRENT_VERSIONS_SQL = """
SELECT r.kind, r.id, r.version
FROM unnest($1::text[], $2::text[]) AS k(kind, id)
JOIN records AS r ON r.kind = k.kind AND r.id = k.id
"""
# Hands out $1 consecutive microseconds; returns the last one.
STAMP_SQL = """
UPDATE ingest_clock
SET last_at = GREATEST(clock_timestamp(), last_at + interval '1 microsecond')
              + ($1::int - 1) * interval '1 microsecond'
RETURNING last_at
"""
# The general case, from the staging table: several versions of one record may arrive in a batch. The
# newest of each becomes current; the others, and the current rows it supersedes, move to history.
MERGE_SQL = """
WITH ranked AS (
    SELECT b.*, rank() OVER (PARTITION BY kind, id ORDER BY version DESC) AS newness
    FROM upsert_batch AS b
), superseded AS (
    INSERT INTO record_history (kind, id, version, ingested_at, body)
    SELECT r.kind, r.id, r.version, r.ingested_at, r.body
    FROM records AS r JOIN ranked AS n ON n.kind = r.kind AND n.id = r.id AND n.newness = 1
    UNION ALL
    SELECT kind, id, version, ingested_at, body FROM ranked WHERE newness > 1
)
INSERT INTO records AS r (kind, id, version, source, road, active, ingested_at, geom, body)
SELECT kind, id, version, source, road, active, ingested_at, geom, body FROM ranked WHERE newness = 1
ON CONFLICT (kind, id) DO UPDATE
SET version = EXCLUDED.version, source = EXCLUDED.source, road = EXCLUDED.road,
    active = EXCLUDED.active, ingested_at = EXCLUDED.ingested_at, geom = EXCLUDED.geom,
    body = EXCLUDED.body
"""

# ----------------------------------------------------------------------------------------- reads
GET_SQL = "SELECT body FROM records WHERE kind = $1 AND id = $2"
HISTORY_SQL = """
SELECT version, body FROM record_history WHERE kind = $1 AND id = $2
UNION ALL
SELECT version, body FROM records WHERE kind = $1 AND id = $2
ORDER BY version
"""
CHANGED_SQL = """
SELECT kind, body FROM records
WHERE kind = ANY($1::text[]) AND ($2::timestamptz IS NULL OR ingested_at > $2)
ORDER BY ingested_at, kind, id
"""
COUNTS_SQL = "SELECT kind, count(*) AS n FROM records WHERE kind = ANY($1::text[]) GROUP BY kind"
PAGE_SQL = "SELECT id, body FROM records WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3"

# Query statements share $1 kind, $2 source, $3 road, $4 active, $5 since, $6 ids, $7 limit (NULL: no
# filter / no limit); the spatial arguments follow from $8.
# The attribute filters all of them share, as a constant fragment (no values are ever spliced in).
_FILTERED = """
FROM records
WHERE kind = $1
  AND ($2::text IS NULL OR source = $2)
  AND ($3::text IS NULL OR road = $3)
  AND ($4::boolean IS NULL OR active = $4)
  AND ($5::timestamptz IS NULL OR ingested_at > $5)
  AND ($6::text[] IS NULL OR id = ANY($6))
"""
QUERY_SQL = "SELECT body" + _FILTERED + """
ORDER BY id
LIMIT $7
"""
# $8..$11: west, south, east, north.
BBOX_SQL = "SELECT body" + _FILTERED + """
  AND geom && ST_MakeEnvelope($8, $9, $10, $11, 4326)
  AND ST_Intersects(geom, ST_MakeEnvelope($8, $9, $10, $11, 4326))
ORDER BY id
LIMIT $7
"""
# $8 lon, $9 lat, $10 radius in metres; $11..$14 a degree box holding the circle (for the index).
NEAR_SQL = "SELECT body" + _FILTERED + """
  AND geom && ST_MakeEnvelope($11, $12, $13, $14, 4326)
  AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($8, $9), 4326)::geography, $10)
ORDER BY ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($8, $9), 4326)::geography), id
LIMIT $7
"""
# $7 k, $8 lon, $9 lat. The index's KNN order (in degrees) picks k candidates; the farthest of them
# (in metres) bounds where the true k nearest can be, so the final pass (NEAR_SQL) is exact.
NEAREST_REACH_SQL = """
SELECT max(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($8, $9), 4326)::geography))
FROM (
SELECT geom""" + _FILTERED + """
  AND geom IS NOT NULL
ORDER BY geom <-> ST_SetSRID(ST_MakePoint($8, $9), 4326)
LIMIT $7
) AS candidates
"""
# $8 line (geometry), $9 distance in metres, $10 boxes (geometry[]) that together hold the corridor:
# each drives its own index probe, so a long diagonal route never scans its whole bounding box.
ALONG_SQL = "SELECT body" + _FILTERED + """
  AND id IN (
      SELECT r.id FROM unnest($10::geometry[]) AS c(box)
      JOIN records AS r ON r.kind = $1 AND r.geom && c.box
  )
  AND ST_DWithin(geom::geography, $8::geometry::geography, $9)
ORDER BY ST_Distance(geom::geography, $8::geometry::geography), id
LIMIT $7
"""  # noqa: S608 - concatenates constant fragments only

# What "the server cannot be reached" looks like: refused or dropped connections, timeouts, a server
# shutting down or starting up, no free connection slots, a pooled connection the server just dropped
# (asyncpg then reports an internal protocol-state error, and the pool replaces the connection), and
# asyncpg's closed pool or connection (plain InterfaceError; its subclasses such as DataError are
# programming errors and propagate).
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InternalClientError,
    # A database that does not exist yet (being created or restored): it can appear later.
    asyncpg.exceptions.InvalidCatalogNameError,
)


def _encode_geometry(geom: BaseGeometry | bytes) -> bytes:
    """Shapely → EWKB tagged with SRID 4326, as the geometry(…, 4326) columns require.

    Bytes pass through: upsert hands over EWKB it made from each row's WKB (``_ewkb``), which is far faster.
    """
    if isinstance(geom, bytes):
        return geom
    return shapely.wkb.dumps(geom, srid=SRID)


def _pad_deg(distance_m: float, south: float, north: float) -> float:
    """Degrees (of longitude, hence of latitude too) surely covering ``distance_m`` between two latitudes."""
    return metres_to_degrees(distance_m, max(abs(south), abs(north)))


def _envelope(lon: float, lat: float, distance_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box (west, south, east, north) holding the circle of ``distance_m`` around a point."""
    pad = _pad_deg(distance_m, lat, lat)
    return (max(-180.0, lon - pad), max(-90.0, lat - pad), min(180.0, lon + pad), min(90.0, lat + pad))


def _corridor(line: LineString, distance_m: float) -> tuple[LineString, list[Polygon]]:
    """The line densified, so its geodesic arcs follow the drawn lon/lat segments, and boxes covering it.

    Each box holds a stretch of at most CORRIDOR_STEP_DEG of the line, padded by ``distance_m``.
    """
    dense = shapely.segmentize(line, CORRIDOR_STEP_DEG)
    _, south, _, north = dense.bounds
    pad = _pad_deg(distance_m + ARC_SLACK_M, south, north)
    coords = shapely.get_coordinates(dense).tolist()
    pieces: list[tuple[float, float, float, float]] = []
    px, py = coords[0]
    x0, y0, x1, y1 = px, py, px, py
    for x, y in coords[1:]:
        if max(max(x1, x) - min(x0, x), max(y1, y) - min(y0, y)) > CORRIDOR_STEP_DEG:
            pieces.append((x0, y0, x1, y1))
            x0, y0, x1, y1 = px, py, px, py  # the next stretch starts where this segment does
        x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
        px, py = x, y
    pieces.append((x0, y0, x1, y1))
    return dense, [box(w - pad, s - pad, e + pad, n + pad) for w, s, e, n in pieces]


async def _init_connection(conn: asyncpg.Connection, *, postgis_schema: str) -> None:
    """Prepare a new pooled connection: the geometry codec and the upsert staging table."""
    await conn.set_type_codec(
        "geometry",
        schema=postgis_schema,
        encoder=_encode_geometry,
        decoder=shapely.wkb.loads,
        format="binary",
    )
    await conn.execute(CREATE_STAGING_SQL)


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    """Turn every way of failing to reach the server into ``StoreUnavailable`` (HTTP 503)."""
    try:
        yield
    except _UNREACHABLE as err:
        raise StoreUnavailable(f"PostGIS store is unreachable: {type(err).__name__}: {err}") from err
    except asyncpg.InterfaceError as err:
        if type(err) is not asyncpg.InterfaceError:
            raise
        raise StoreUnavailable(f"PostGIS store is unreachable: {err}") from err


def _plan(rows: Sequence[Row], current: dict[tuple[str, str], int]) -> list[ChangeOp]:
    """What upserting ``rows`` in order does to each, given the stored versions (updated in place)."""
    ops: list[ChangeOp] = []
    for row in rows:
        key = (row.kind.value, row.id)
        known = current.get(key)
        if known is not None and row.version <= known:
            ops.append(ChangeOp.UNCHANGED)
        else:
            ops.append(ChangeOp.CREATED if known is None else ChangeOp.UPDATED)
            current[key] = row.version
    return ops


def _unchanged(rows: Sequence[Row], records: Sequence[Record] | None, i: int) -> Change:
    """The UNCHANGED change of row ``i``: its record as given (decoded lazily from the row without one)."""
    if records is not None:
        return Change(ChangeOp.UNCHANGED, records[i])
    return Change.of_body(ChangeOp.UNCHANGED, rows[i].kind, rows[i].body("null"))


def _table_row(row: Row, stamp: datetime, body: str) -> tuple[Any, ...]:
    """The ``records`` table row (RECORD_COLUMNS) of a stamped row; the body is the record's own JSON."""
    return (row.kind.value, row.id, row.version, row.source, row.road, row.active, stamp,
            None if row.wkb is None else _ewkb(row.wkb), body)


def _ewkb(wkb: bytes) -> bytes:
    """WKB (shapely's, as ``to_rows`` makes it) as EWKB tagged with SRID 4326: the SRID flag and value in its header."""
    order = "<" if wkb[0] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", wkb, 1)
    return wkb[:1] + struct.pack(order + "II", kind | _EWKB_SRID_FLAG, SRID) + wkb[5:]


def _decode(kind: Kind, rows: Sequence[asyncpg.Record]) -> list[Record]:
    """Records of one kind from rows whose ``body`` column holds their JSON."""
    return [record_from_json(kind, row["body"]) for row in rows]


class PostgisStore:
    """The Store protocol on PostgreSQL + PostGIS, for deployments that share one database."""

    name = "postgis"

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout_s: float = 5.0,
        command_timeout_s: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout_s = connect_timeout_s
        self._command_timeout_s = command_timeout_s
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return f"<PostgisStore {'open' if self._pool else 'closed'}>"

    # ------------------------------------------------------------------------------- lifecycle
    async def open(self) -> None:
        """Apply pending migrations, then create the connection pool."""
        if self._pool is not None:
            return
        with _unavailable_on_connection_errors():
            conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout_s)
            try:
                applied = await migrate(conn)
                postgis_schema = await conn.fetchval(POSTGIS_SCHEMA_SQL)
            finally:
                await conn.close(timeout=self._connect_timeout_s)
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=self._connect_timeout_s,
                command_timeout=self._command_timeout_s,
                init=functools.partial(_init_connection, postgis_schema=postgis_schema),
                # Optional filters are written "$n IS NULL OR …": plan each call with its values.
                server_settings={"plan_cache_mode": "force_custom_plan", "application_name": "travel"},
            )
        log.info("PostGIS store open (%d migrations applied)", len(applied))

    async def close(self) -> None:
        """Close the pool, waiting briefly for connections in use; a later ``open`` starts afresh."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), self._command_timeout_s)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            log.warning("PostGIS pool did not close cleanly (%s); terminating it", err)
            pool.terminate()
        log.info("PostGIS store closed")

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, with connection failures reported as ``StoreUnavailable``."""
        pool = self._pool
        if pool is None:
            raise StoreUnavailable("PostGIS store is not open")
        with _unavailable_on_connection_errors():
            async with pool.acquire(timeout=self._connect_timeout_s) as conn:
                yield conn

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the server answers now."""
        async with self._connection() as conn:
            await conn.fetchval(PING_SQL, timeout=self._connect_timeout_s)

    # ---------------------------------------------------------------------------------- writes
    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """A bulk load is under way: nothing to change, each COPY-based commit is already cheap."""
        yield

    async def upsert(self, records: Sequence[Record]) -> list[Change]:
        """Commit a batch in one transaction: newer versions become current, older ones history."""
        return await self._upsert(to_rows(records), records)

    async def upsert_rows(self, rows: Sequence[Row]) -> list[Change]:
        """``upsert`` of records serialized beforehand (an import's): their changes decode lazily."""
        return await self._upsert(rows, None)

    async def _upsert(self, rows: Sequence[Row], records: Sequence[Record] | None) -> list[Change]:
        """Commit ``rows`` in one transaction; changes carry ``records`` (stamped) when given."""
        if not rows:
            return []
        keys = list({(r.kind.value, r.id) for r in rows})
        # Generous for big imports, still bounded when the server stops answering.
        timeout = self._command_timeout_s + len(rows) / 1000
        async with self._connection() as conn, conn.transaction():
            # Every writer locks the clock first, so versions are compared and stamps handed out in
            # commit order: neither can race with another writer, in this process or another.
            await conn.execute(LOCK_CLOCK_SQL, timeout=timeout)
            current = await conn.fetch(
                CURRENT_VERSIONS_SQL, [k for k, _ in keys], [i for _, i in keys], timeout=timeout
            )
            ops = _plan(rows, {(r["kind"], r["id"]): r["version"] for r in current})
            changed = [i for i, op in enumerate(ops) if op is not ChangeOp.UNCHANGED]
            if not changed:
                return [_unchanged(rows, records, i) for i in range(len(rows))]
            last: datetime = await conn.fetchval(STAMP_SQL, len(changed), timeout=timeout)
            first = last - (len(changed) - 1) * MICROSECOND
            stamps = {i: first + n * MICROSECOND for n, i in enumerate(changed)}
            bodies = {i: rows[i].body(json_time(stamp)) for i, stamp in stamps.items()}
            table_rows = [_table_row(rows[i], stamps[i], bodies[i]) for i in changed]
            if all(ops[i] is ChangeOp.CREATED for i in changed):
                # Only new records, each once (an import): straight into the table, nothing to merge.
                await conn.copy_records_to_table(
                    "records", records=table_rows, columns=RECORD_COLUMNS, timeout=timeout
                )
            else:
                await conn.copy_records_to_table(
                    "upsert_batch", records=table_rows, columns=RECORD_COLUMNS, timeout=timeout
                )
                await conn.execute(MERGE_SQL, timeout=timeout)
        if records is None:
            return [_unchanged(rows, None, i) if op is ChangeOp.UNCHANGED
                    else Change.of_body(op, rows[i].kind, bodies[i]) for i, op in enumerate(ops)]
        return [Change(op, records[i] if op is ChangeOp.UNCHANGED
                       else records[i].model_copy(update={"ingested_at": stamps[i]})) for i, op in enumerate(ops)]

    # ----------------------------------------------------------------------------------- reads
    async def get(self, kind: Kind, record_id: str) -> Record | None:
        """The current version of one record, or None."""
        async with self._connection() as conn:
            body = await conn.fetchval(GET_SQL, kind.value, record_id)
        return None if body is None else record_from_json(kind, body)

    async def history(self, kind: Kind, record_id: str) -> list[Record]:
        """Every committed version of one record, oldest first."""
        async with self._connection() as conn:
            rows = await conn.fetch(HISTORY_SQL, kind.value, record_id)
        return _decode(kind, rows)

    async def query(self, query: Query) -> list[Record]:
        """Current records of one kind matching the spatial predicate and attribute filters."""
        filters = (
            query.kind.value,
            query.source,
            query.road,
            query.active,
            query.since,
            sorted(query.ids) if query.ids is not None else None,
        )
        async with self._connection() as conn:
            if query.bbox is not None:
                bbox = query.bbox
                edges = (float(bbox.west), float(bbox.south), float(bbox.east), float(bbox.north))
                rows = await conn.fetch(BBOX_SQL, *filters, query.limit, *edges)
            elif query.near is not None:
                near = query.near
                lon, lat, radius = float(near.lon), float(near.lat), float(near.radius_m)
                envelope = _envelope(lon, lat, radius)
                rows = await conn.fetch(NEAR_SQL, *filters, query.limit, lon, lat, radius, *envelope)
            elif query.nearest is not None:
                rows = await self._nearest(conn, query.nearest, query.limit, filters)
            elif query.along is not None:
                along = query.along
                distance = float(along.distance_m)
                line, boxes = _corridor(along.line, distance)
                rows = await conn.fetch(ALONG_SQL, *filters, query.limit, line, distance, boxes)
            else:
                rows = await conn.fetch(QUERY_SQL, *filters, query.limit)
        return _decode(query.kind, rows)

    @staticmethod
    async def _nearest(
        conn: asyncpg.Connection, nearest: Nearest, limit: int | None, filters: tuple[Any, ...]
    ) -> list[asyncpg.Record]:
        """Rows of the k nearest records (by geodesic distance), no farther than ``max_m`` if given."""
        k = nearest.k if limit is None else min(nearest.k, limit)
        if k <= 0:
            return []
        lon, lat = float(nearest.lon), float(nearest.lat)
        reach = await conn.fetchval(NEAREST_REACH_SQL, *filters, k, lon, lat)
        if reach is None:
            return []
        # A hair of slack so the k-th candidate is not lost to rounding between the two functions.
        radius = reach * (1 + 1e-9) + 1e-3
        if nearest.max_m is not None:
            radius = min(radius, float(nearest.max_m))
        return await conn.fetch(NEAR_SQL, *filters, k, lon, lat, radius, *_envelope(lon, lat, radius))

    async def changed_since(
        self, since: datetime | None, kinds: Sequence[Kind] | None = None
    ) -> list[Record]:
        """Current records committed after ``since`` (all when None), oldest commit first."""
        wanted = ALL_KINDS if kinds is None else [k.value for k in kinds]
        async with self._connection() as conn:
            rows = await conn.fetch(CHANGED_SQL, wanted, since)
        return [record_from_json(Kind(row["kind"]), row["body"]) for row in rows]

    async def counts(self) -> dict[Kind, int]:
        """Number of current records per kind (kinds with none are omitted)."""
        async with self._connection() as conn:
            rows = await conn.fetch(COUNTS_SQL, ALL_KINDS)
        return {Kind(row["kind"]): row["n"] for row in rows}

    async def iter_kind(self, kind: Kind, batch: int = 5000) -> AsyncIterator[Record]:
        """Stream every current record of ``kind`` in id order, one short query per page."""
        after = ""
        while True:
            async with self._connection() as conn:
                rows = await conn.fetch(PAGE_SQL, kind.value, after, batch)
            for record in _decode(kind, rows):
                yield record
            if len(rows) < batch:
                return
            after = rows[-1]["id"]
