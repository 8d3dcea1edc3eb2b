"""One contract, two backends: versioning, history, spatial queries, changed-since, atomicity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from shapely.geometry import LineString

from tests.factories import T0, event, poi, section
from travel.core.records import Kind, RoadEvent
from travel.store.base import Along, BBox, ChangeOp, Near, Nearest, Query, Store

# 许昌 (113.85, 34.03) and points around it; 0.01° lat ≈ 1.11 km.
XUCHANG = (113.85, 34.03)


async def test_upsert_creates_then_supersedes_and_keeps_history(store: Store) -> None:
    [c1] = await store.upsert([event("1", version=1)])
    assert c1.op is ChangeOp.CREATED
    [c2] = await store.upsert([event("1", version=2, severity="major")])
    assert c2.op is ChangeOp.UPDATED
    current = await store.get(Kind.EVENT, "gsj:1")
    assert isinstance(current, RoadEvent)
    assert current.version == 2 and current.severity == "major"
    assert current.ingested_at is not None
    history = await store.history(Kind.EVENT, "gsj:1")
    assert [r.version for r in history] == [1, 2]
    assert history[0].severity == "moderate"


async def test_equal_or_older_version_is_a_noop(store: Store) -> None:
    await store.upsert([event("1", version=5)])
    [same] = await store.upsert([event("1", version=5, description="改过的描述")])
    [older] = await store.upsert([event("1", version=3, description="旧描述")])
    assert same.op is ChangeOp.UNCHANGED and older.op is ChangeOp.UNCHANGED
    current = await store.get(Kind.EVENT, "gsj:1")
    assert current is not None and current.version == 5
    assert current.description.startswith("京港澳高速")
    assert len(await store.history(Kind.EVENT, "gsj:1")) == 1


async def test_batch_with_two_versions_of_one_record_keeps_the_newest(store: Store) -> None:
    changes = await store.upsert([event("1", version=2), event("1", version=1), event("1", version=3)])
    assert [c.op for c in changes] == [ChangeOp.CREATED, ChangeOp.UNCHANGED, ChangeOp.UPDATED]
    current = await store.get(Kind.EVENT, "gsj:1")
    assert current is not None and current.version == 3
    assert [r.version for r in await store.history(Kind.EVENT, "gsj:1")] == [2, 3]


async def test_get_unknown_and_kinds_are_separate(store: Store) -> None:
    await store.upsert([event("1")])
    assert await store.get(Kind.POI, "gsj:1") is None
    assert await store.get(Kind.EVENT, "gsj:404") is None
    assert await store.history(Kind.EVENT, "gsj:404") == []


async def test_round_trip_preserves_every_field(store: Store) -> None:
    original = event("1", end_stake_m=652000.0, start_time=T0, expected_end=T0 + timedelta(hours=3),
                     direction_text="北京往珠海方向")
    await store.upsert([original])
    loaded = await store.get(Kind.EVENT, "gsj:1")
    assert loaded is not None
    assert loaded.model_dump(exclude={"ingested_at"}) == original.model_dump(exclude={"ingested_at"})


async def test_bbox_query(store: Store) -> None:
    await store.upsert([poi("a", 113.85, 34.03), poi("b", 113.90, 34.10), poi("c", 114.60, 34.80)])
    found = await store.query(Query(Kind.POI, bbox=BBox(113.8, 34.0, 114.0, 34.2)))
    assert [r.id for r in found] == ["geodata:a", "geodata:b"]


async def test_bbox_query_finds_lines_crossing_the_box(store: Store) -> None:
    await store.upsert([section("s1", [(113.0, 34.05), (115.0, 34.05)])])
    found = await store.query(Query(Kind.ROAD_SECTION, bbox=BBox(113.8, 34.0, 113.9, 34.1)))
    assert [r.id for r in found] == ["geodata:s1"]


async def test_radius_query_is_in_metres_and_sorted_by_distance(store: Store) -> None:
    lon, lat = XUCHANG
    await store.upsert([
        poi("far", lon, lat + 0.05),       # ≈ 5.5 km
        poi("near", lon, lat + 0.009),     # ≈ 1.0 km
        poi("edge", lon + 0.03, lat),      # ≈ 2.77 km (longitude degrees shrink with latitude)
    ])
    found = await store.query(Query(Kind.POI, near=Near(lon, lat, 3000)))
    assert [r.id for r in found] == ["geodata:near", "geodata:edge"]
    found = await store.query(Query(Kind.POI, near=Near(lon, lat, 2700)))
    assert [r.id for r in found] == ["geodata:near"]


async def test_nearest_query(store: Store) -> None:
    lon, lat = XUCHANG
    await store.upsert([poi(f"p{i}", lon + 0.01 * i, lat) for i in range(1, 8)])
    found = await store.query(Query(Kind.POI, nearest=Nearest(lon, lat, k=3)))
    assert [r.id for r in found] == ["geodata:p1", "geodata:p2", "geodata:p3"]
    # p1 is ≈ 0.92 km away, p2 ≈ 1.84 km
    bounded = await store.query(Query(Kind.POI, nearest=Nearest(lon, lat, k=5, max_m=1500)))
    assert [r.id for r in bounded] == ["geodata:p1"]


async def test_nearest_query_beyond_first_search_ring(store: Store) -> None:
    await store.upsert([poi("lonely", 110.5, 32.5)])
    found = await store.query(Query(Kind.POI, nearest=Nearest(114.5, 35.5, k=1)))
    assert [r.id for r in found] == ["geodata:lonely"]


async def test_along_line_query(store: Store) -> None:
    line = LineString([(113.6, 34.75), (113.85, 34.03)])  # 郑州 → 许昌, roughly G4
    mid_lon, mid_lat = 113.725, 34.39
    await store.upsert([
        poi("on", mid_lon, mid_lat),
        poi("beside", mid_lon + 0.02, mid_lat),   # ≈ 1.7 km east (less perpendicular)
        poi("away", mid_lon + 0.3, mid_lat),
    ])
    found = await store.query(Query(Kind.POI, along=Along(line, 2500)))
    assert [r.id for r in found] == ["geodata:on", "geodata:beside"]


async def test_attribute_filters(store: Store) -> None:
    await store.upsert([
        event("1", road="G4"),
        event("2", road="G30", status="cleared"),
        event("3", source="lzc", road="G4"),
    ])
    assert {r.id for r in await store.query(Query(Kind.EVENT, road="G4"))} == {"gsj:1", "lzc:3"}
    assert {r.id for r in await store.query(Query(Kind.EVENT, active=True))} == {"gsj:1", "lzc:3"}
    assert {r.id for r in await store.query(Query(Kind.EVENT, active=False))} == {"gsj:2"}
    assert {r.id for r in await store.query(Query(Kind.EVENT, source="lzc"))} == {"lzc:3"}
    assert {r.id for r in await store.query(Query(Kind.EVENT, ids=frozenset({"gsj:1", "x:9"})))} == {"gsj:1"}
    limited = await store.query(Query(Kind.EVENT, limit=2))
    assert [r.id for r in limited] == ["gsj:1", "gsj:2"]


async def test_filters_combine_with_spatial_predicates(store: Store) -> None:
    lon, lat = XUCHANG
    await store.upsert([event("1", lon=lon, lat=lat, road="G4"), event("2", lon=lon, lat=lat, road="G30")])
    found = await store.query(Query(Kind.EVENT, near=Near(lon, lat, 500), road="G30"))
    assert [r.id for r in found] == ["gsj:2"]


async def test_records_without_geometry_are_stored_but_not_found_spatially(store: Store) -> None:
    await store.upsert([event("1", geometry=None)])
    assert await store.get(Kind.EVENT, "gsj:1") is not None
    assert await store.query(Query(Kind.EVENT, bbox=BBox(100, 20, 130, 50))) == []


async def test_changed_since_is_incremental(store: Store) -> None:
    await store.upsert([event("1"), poi("a", 113.8, 34.0)])
    everything = await store.changed_since(None)
    assert {r.id for r in everything} == {"gsj:1", "geodata:a"}
    mark = max(r.ingested_at for r in everything if r.ingested_at)
    await store.upsert([event("1", version=2), event("2")])
    await store.upsert([event("2", version=1)])  # no-op: must not count as a change
    later = await store.changed_since(mark)
    assert [(r.id, r.version) for r in later] == [("gsj:1", 2), ("gsj:2", 1)]
    assert [r.id for r in await store.changed_since(mark, kinds=[Kind.POI])] == []
    assert await store.query(Query(Kind.EVENT, since=mark)) == later


async def test_failed_batch_changes_nothing(store: Store) -> None:
    await store.upsert([event("1", version=1)])

    class Exploding(RoadEvent):
        def model_dump_json(self, **kw):  # type: ignore[override]
            raise RuntimeError("serializer failed mid-batch")

    bad = Exploding(**event("9").model_dump())
    with pytest.raises(RuntimeError):
        await store.upsert([event("1", version=2), bad])
    current = await store.get(Kind.EVENT, "gsj:1")
    assert current is not None and current.version == 1
    assert await store.get(Kind.EVENT, "gsj:9") is None


async def test_bulk_load_commits_like_any_upsert(store: Store) -> None:
    async with store.bulk():
        [created] = await store.upsert([event("1", version=1)])
        assert await store.get(Kind.EVENT, "gsj:1") is not None  # visible at once, not at the end
        [updated] = await store.upsert([event("1", version=2)])
    assert (created.op, updated.op) == (ChangeOp.CREATED, ChangeOp.UPDATED)
    assert [r.version for r in await store.history(Kind.EVENT, "gsj:1")] == [1, 2]
    [later] = await store.upsert([event("2")])
    assert later.record.ingested_at > updated.record.ingested_at  # type: ignore[operator]


async def test_counts_and_iteration(store: Store) -> None:
    await store.upsert([event(str(i)) for i in range(7)] + [poi("a", 113.8, 34.0)])
    assert await store.counts() == {Kind.EVENT: 7, Kind.POI: 1}
    seen = [r.id async for r in store.iter_kind(Kind.EVENT, batch=3)]
    assert sorted(seen) == sorted(f"gsj:{i}" for i in range(7))


async def test_ping_and_reopen_keeps_data(store: Store) -> None:
    await store.ping()
    await store.upsert([event("1")])
    await store.close()
    await store.open()
    assert await store.get(Kind.EVENT, "gsj:1") is not None
