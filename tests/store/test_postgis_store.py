"""PostGIS-specific behaviour beyond the store contract: migrations, indexes, outages, bulk batches."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from itertools import pairwise

import asyncpg
import pytest
from shapely.geometry import box

from tests.factories import T0, poi, section
from tests.services import opened, postgis_database
from travel.core.errors import StoreUnavailable
from travel.core.geometry import Geometry
from travel.core.records import AdminArea, Kind, WaterwaySection
from travel.core.spatial import distance_m
from travel.store import migrate as migrate_module
from travel.store.base import BBox, ChangeOp, Near, Nearest, Query
from travel.store.migrate import migrate, migration_files
from travel.store.postgis import BBOX_SQL, PostgisStore

ALL_MIGRATIONS = [name for name, _ in migration_files()]


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    async with postgis_database() as url:
        yield url


@pytest.fixture
async def store(dsn: str) -> AsyncIterator[PostgisStore]:
    async with opened(PostgisStore(dsn)) as s:
        yield s


async def test_migrations_are_recorded_and_applied_once(dsn: str) -> None:
    assert ALL_MIGRATIONS and ALL_MIGRATIONS[0] == "0001_init.sql"
    conn = await asyncpg.connect(dsn)
    try:
        assert await migrate(conn) == ALL_MIGRATIONS
        assert await migrate(conn) == []
        recorded = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")]
        assert recorded == ALL_MIGRATIONS
        assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'") == 1
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_once(dsn: str) -> None:
    conns = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(results) == [[], [], ALL_MIGRATIONS]
    finally:
        for c in conns:
            await c.close()


async def test_failed_migration_leaves_no_trace_and_releases_the_lock(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = [*migration_files(), ("9999_broken.sql", "CREATE TABLE half_done (x int); SELECT 1 / 0;")]
    monkeypatch.setattr(migrate_module, "migration_files", lambda: broken)
    conn = await asyncpg.connect(dsn)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn)
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        names = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        assert names == set(ALL_MIGRATIONS)
        monkeypatch.setattr(migrate_module, "migration_files", migration_files)
        other = await asyncpg.connect(dsn)
        try:
            assert await asyncio.wait_for(migrate(other), 5) == []  # the lock was released
        finally:
            await other.close()
    finally:
        await conn.close()


async def test_every_kind_has_a_spatial_index_the_planner_uses(store: PostgisStore, dsn: str) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"plan_cache_mode": "force_custom_plan"})
    try:
        rows = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records'")
        gist = {r["indexname"]: r["indexdef"] for r in rows if "USING gist (geom)" in r["indexdef"]}
        for kind in Kind:
            assert any(f"kind = '{kind.value}'::text" in d for d in gist.values()), f"no GiST for {kind}"
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN " + BBOX_SQL, "poi", None, None, None, None, None, None, 113.0, 34.0, 114.0, 35.0
            )
        )
        assert "records_poi_geom_gist" in plan
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/travel",  # refused at once
        "postgresql://postgres@10.255.255.1:5432/travel",  # unroutable: only the timeout ends it
    ],
)
async def test_unreachable_server_is_reported_not_waited_for(url: str) -> None:
    s = PostgisStore(url, connect_timeout_s=1.0)

    async def attempt() -> StoreUnavailable:
        with pytest.raises(StoreUnavailable) as raised:
            await s.open()
        with pytest.raises(StoreUnavailable):
            await s.ping()
        return raised.value

    # A hang guard, not a timing: without the connect timeout the unroutable address never answers.
    error = await asyncio.wait_for(attempt(), 30)
    assert "unreachable" in error.detail


async def test_lost_connections_are_unavailable_then_recovered(store: PostgisStore, dsn: str) -> None:
    await store.upsert([poi("a", 113.8, 34.0)])
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(await store.get(Kind.POI, "geodata:a"))
        except StoreUnavailable:
            outcomes.append(None)
    assert outcomes[-1] is not None and outcomes[-1].id == "geodata:a"
    await store.ping()


async def test_closed_store_is_unavailable(store: PostgisStore) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.get(Kind.POI, "geodata:a")


async def test_stamps_increase_across_stores_sharing_a_database(store: PostgisStore, dsn: str) -> None:
    other = PostgisStore(dsn)
    await other.open()
    try:
        await asyncio.gather(
            *(s.upsert([poi(f"{n}-{round_}-{i}", 113.8, 34.0) for i in range(50)])
              for n, s in enumerate((store, other)) for round_ in range(5))
        )
    finally:
        await other.close()
    stamps = [r.ingested_at for r in await store.changed_since(None)]
    assert len(stamps) == 500
    assert all(a is not None and b is not None and a < b for a, b in pairwise(stamps))


async def test_polygons_and_multilines_are_stored_and_found(store: PostgisStore) -> None:
    river = WaterwaySection(
        id="hyd:sy1", source="hyd", source_id="sy1", version=1, updated_at=T0, name="沙颍河 周口段", river="沙颍河",
        geometry=Geometry(type="MultiLineString", coordinates=[[[114.6, 33.6], [114.9, 33.6]],
                                                               [[114.9, 33.6], [115.2, 33.5]]]),
    )
    city = AdminArea(
        id="gb:411000", source="gb", source_id="411000", version=1, updated_at=T0, code="411000",
        name="许昌市", short_name="许昌", level="prefecture",
        geometry=Geometry(type="Polygon", coordinates=[[[113.6, 33.8], [114.2, 33.8], [114.2, 34.3],
                                                        [113.6, 34.3], [113.6, 33.8]]]),
    )
    await store.upsert([river, city])
    assert await store.get(Kind.WATERWAY, "hyd:sy1") == (await store.changed_since(None, [Kind.WATERWAY]))[0]
    inside = await store.query(Query(Kind.ADMIN_AREA, near=Near(113.85, 34.03, 1)))
    assert [r.id for r in inside] == ["gb:411000"]
    found = await store.query(Query(Kind.WATERWAY, bbox=BBox(115.0, 33.4, 115.1, 33.7)))
    assert [r.id for r in found] == ["hyd:sy1"]
    nearest = await store.query(Query(Kind.WATERWAY, nearest=Nearest(114.75, 33.65, k=1, max_m=6000)))
    assert [r.id for r in nearest] == ["hyd:sy1"]  # ≈ 5.5 km north of the first part


async def test_bulk_batch_upserts_and_queries_correctly(store: PostgisStore) -> None:
    rnd = random.Random(7)
    sections = []
    for i in range(20_000):
        lon, lat = 110.5 + rnd.random() * 6, 31.5 + rnd.random() * 5
        sections.append(section(f"s{i:05d}", [(lon, lat), (lon + 0.01, lat + 0.004)]))
    changes = await store.upsert(sections)
    assert [c.op for c in changes] == [ChangeOp.CREATED] * len(sections)
    stamps = [c.record.ingested_at for c in changes]
    assert all(a is not None and b is not None and a < b for a, b in pairwise(stamps))
    assert await store.counts() == {Kind.ROAD_SECTION: 20_000}

    area = BBox(113.0, 33.0, 114.0, 34.0)
    expected = sorted(s.id for s in sections if s.geometry.shape.intersects(box(113.0, 33.0, 114.0, 34.0)))
    assert [r.id for r in await store.query(Query(Kind.ROAD_SECTION, bbox=area))] == expected

    lon, lat, radius = 113.5, 33.5, 5000.0
    near = await store.query(Query(Kind.ROAD_SECTION, near=Near(lon, lat, radius)))
    distances = [distance_m(r.geometry.shape, lon, lat) for r in near if r.geometry is not None]
    assert near and all(d <= radius * 1.005 for d in distances)
    assert distances == pytest.approx(sorted(distances), rel=0.005)
    within = {s.id for s in sections if distance_m(s.geometry.shape, lon, lat) < radius * 0.995}
    assert within <= {r.id for r in near}

    # Half again, newer: the merge path, with the old versions moved to history.
    newer = [s.model_copy(update={"version": 2, "speed_kmh": 80.0}) for s in sections[::2]]
    changes = await store.upsert(newer + sections[1::2])
    assert [c.op for c in changes] == [ChangeOp.UPDATED] * 10_000 + [ChangeOp.UNCHANGED] * 10_000
    assert [r.version for r in await store.history(Kind.ROAD_SECTION, "geodata:s00000")] == [1, 2]
    current = await store.get(Kind.ROAD_SECTION, "geodata:s00000")
    assert current is not None and current.speed_kmh == 80.0
    streamed = [r.id async for r in store.iter_kind(Kind.ROAD_SECTION, batch=3000)]
    assert streamed == sorted(s.id for s in sections)
