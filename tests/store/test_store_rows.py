"""Records serialized once as rows (``to_rows``/``upsert_rows``) commit exactly as the records themselves do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import shapely
from pydantic import AwareDatetime, TypeAdapter

from tests.factories import event, poi, section
from tests.services import opened
from travel.core.geometry import Geometry
from travel.core.records import Kind
from travel.store.base import BBox, Change, ChangeOp, Query, Store, json_time, to_rows
from travel.store.bus import decode_change, encode_change
from travel.store.embedded import _ROWS_PER_INSERT, EmbeddedStore, _Clock, _datetime, _format_time
from travel.store.postgis import SRID, _ewkb

STAMPS = [
    datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 25, 3, 0, 0, 120, tzinfo=UTC),
    datetime(2026, 11, 25, 3, 0, 59, 999999, tzinfo=timezone(timedelta(0))),
    datetime(2026, 11, 25, 3, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
]


@pytest.mark.parametrize("stamp", STAMPS)
def test_json_time_writes_stamps_as_pydantic_does(stamp: datetime) -> None:
    assert json_time(stamp) == TypeAdapter(AwareDatetime).dump_json(stamp).decode()


def test_a_row_body_stamped_is_the_stamped_records_json() -> None:
    line = section("s", [(113.0, 34.0), (113.1, 34.1)])
    records = [event("1"), poi("a", 113.8, 34.0), line, event("2", geometry=None)]
    for record, row in zip(records, to_rows(records), strict=True):
        for stamp in STAMPS:
            assert row.body(json_time(stamp)) == record.model_copy(update={"ingested_at": stamp}).model_dump_json()
        assert (row.kind, row.id, row.version, row.road, row.active) == (
            record.kind, record.id, record.version, record.road_code, record.active)
    stamped = records[0].model_copy(update={"ingested_at": STAMPS[1]})
    assert to_rows([stamped]) == to_rows(records[:1])  # a stamp the record had is left for the store


@pytest.mark.parametrize("geometry", [
    Geometry.point(113.8, 34.2),
    Geometry(type="LineString", coordinates=[[113.0, 34.0], [113.1, 34.1], [113.2, 34.0]]),
    Geometry(type="Polygon", coordinates=[[[113.0, 34.0], [113.1, 34.0], [113.1, 34.1], [113.0, 34.0]]]),
    Geometry(type="MultiLineString", coordinates=[[[113.0, 34.0], [113.1, 34.1]], [[114.0, 34.0], [114.1, 34.1]]]),
    Geometry(type="LineString", coordinates=[[113.0, 34.0, 80.0], [113.1, 34.1, 90.0]]),
])
def test_ewkb_from_a_rows_wkb_is_shapelys_ewkb(geometry: Geometry) -> None:
    [row] = to_rows([event("1", geometry=geometry)])
    assert row.wkb is not None and row.bounds == tuple(shapely.bounds(geometry.shape).tolist())
    tagged = shapely.set_srid(geometry.shape, SRID)
    assert _ewkb(row.wkb) == shapely.to_wkb(tagged, include_srid=True)


def test_a_change_from_a_body_decodes_its_record_once_and_is_immutable() -> None:
    record = event("1").model_copy(update={"ingested_at": STAMPS[1]})
    lazy = Change.of_body(ChangeOp.CREATED, Kind.EVENT, record.model_dump_json())
    assert lazy.kind is Kind.EVENT and lazy.record == record and lazy.record is lazy.record
    assert lazy == Change(ChangeOp.CREATED, record) and lazy != Change(ChangeOp.UPDATED, record)
    assert repr(lazy) == repr(Change(ChangeOp.CREATED, record))
    assert decode_change(encode_change(lazy)) == lazy
    with pytest.raises(AttributeError):
        lazy.op = ChangeOp.UPDATED  # type: ignore[misc]


async def test_upsert_rows_stores_and_reports_what_upsert_would(store: Store) -> None:
    records = [event("1"), event("2", version=3), poi("a", 113.8, 34.0)]
    changes = await store.upsert_rows(to_rows(records))
    assert [c.op for c in changes] == [ChangeOp.CREATED] * 3
    stored = [await store.get(r.kind, r.id) for r in records]
    assert [c.record for c in changes] == stored
    assert all(s is not None and s.ingested_at is not None for s in stored)
    assert [s.model_copy(update={"ingested_at": None}) for s in stored if s] == records
    again = await store.upsert_rows(to_rows([event("2", version=3), event("2", version=4, severity="major")]))
    assert [c.op for c in again] == [ChangeOp.UNCHANGED, ChangeOp.UPDATED]
    assert again[0].record == event("2", version=3) and again[1].record.severity == "major"
    assert [r.version for r in await store.history(Kind.EVENT, "gsj:2")] == [3, 4]


@pytest.mark.parametrize("stamp", STAMPS[:3])
def test_the_embedded_stores_clock_writes_its_column_text_and_json(stamp: datetime) -> None:
    clock = _Clock(stamp - timedelta(seconds=1))
    micros = (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert _datetime(micros) == stamp
    assert clock.texts(micros) == clock.texts(micros) == (_format_time(stamp), json_time(stamp))


def test_the_embedded_stores_clock_never_goes_back() -> None:
    ahead = datetime.now(UTC) + timedelta(seconds=5)  # stamps read back from a file written by a clock ahead
    clock = _Clock(ahead)
    stamps = [clock.stamp() for _ in range(1000)]
    assert stamps == sorted(set(stamps)) and _datetime(stamps[0]) == ahead + timedelta(microseconds=1)


async def test_a_bulk_batch_larger_than_one_insert_statement_stores_every_row(tmp_path: Path) -> None:
    records = [poi(f"p{i}", 113.0 + i / 1000, 34.0) for i in range(2 * _ROWS_PER_INSERT + 7)]
    async with opened(EmbeddedStore(tmp_path / "travel.sqlite3")) as store:
        changes = await store.upsert_rows(to_rows(records))
        assert [c.op for c in changes] == [ChangeOp.CREATED] * len(records)
        assert await store.counts() == {Kind.POI: len(records)}
        near = await store.query(Query(Kind.POI, bbox=BBox(113.1005, 33.9, 113.1015, 34.1)))
        assert [r.id for r in near] == ["geodata:p101"]
