"""GeoJSON feed of road events and POIs, in the bundle's conventions."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.base import FeedError, ParseContext, Parsed, version_of
from feeds.geojson import parse
from travel.core.records import Direction, EventStatus, EventType, OpenStatus, Poi, RoadEvent, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "geojson"
CTX = ParseContext(source="hnjt")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def doc(features: list[Any], **members: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", **members, "features": features}, ensure_ascii=False).encode()


def event(fid: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [113.79, 34.21]},
            "properties": {"type": "weather", "description": "大雾，能见度低于100米", **props}}


def reasons(parsed: Parsed) -> list[str]:
    return [str(r) for r in parsed.rejected]


def test_events_fixture_maps_every_property() -> None:
    parsed = parse(fixture("events.geojson"), CTX)
    assert parsed.snapshot and not parsed.rejected
    fog, ice, works = parsed.records
    assert isinstance(fog, RoadEvent) and (fog.id, fog.source, fog.source_id) == (
        "hnjt:HN-2026-0124-001", "hnjt", "HN-2026-0124-001")
    assert (fog.type, fog.severity, fog.road, fog.direction) == (EventType.WEATHER, Severity.MAJOR, "G4",
                                                                Direction.INCREASING)
    assert (fog.direction_text, fog.start_stake_m, fog.end_stake_m, fog.reduced_speed_kmh) == (
        "郑州往许昌方向", 745000, 766600, 40)
    assert fog.start_time == datetime(2026, 1, 23, 21, 30, tzinfo=UTC)
    assert fog.updated_at == datetime(2026, 1, 23, 23, 0, tzinfo=UTC)  # the collection's
    assert fog.version == version_of(fog.updated_at)
    assert ice.updated_at == datetime(2026, 1, 23, 22, 40, tzinfo=UTC)  # its own
    assert ice.restrictions.forbidden_classes == [13, 14, 15, 16] and ice.geometry.type == "LineString"
    assert (works.source_id, works.version, works.status, works.geometry) == ("3", 7, EventStatus.PLANNED, None)


def test_kind_per_feature_mixes_pois_and_events() -> None:
    parsed = parse(fixture("pois.geojson"), CTX)
    assert not parsed.snapshot and not parsed.rejected
    toll, sa, accident = parsed.records
    assert isinstance(toll, Poi) and toll.name == "郑州南收费站" and toll.stake_m == 695300
    assert sa.open_status is OpenStatus.CLOSED and sa.facilities.fuel == ["92#", "95#", "0#柴油"]
    assert isinstance(accident, RoadEvent) and accident.type is EventType.ACCIDENT


def test_bad_features_are_rejected_by_number_and_id() -> None:
    features = [
        event("ok", x_note="人工录入"),
        event("u1", lanes="2"),
        {**event(None)},
        event("k1", kind="alert"),
        event("d1", description=""),
        event("ok"),
        ["not", "a", "feature"],
        event("r1", source="other"),
        event("t1", start_time="2026-01-24 05:30"),
        {**event("g1"), "geometry": {"type": "Point", "coordinates": [500, 34]}},
    ]
    parsed = parse(doc(features, kind="event", updated_at="2026-01-24T07:00:00+08:00"), CTX)
    assert [r.source_id for r in parsed.records] == ["ok"]
    got = reasons(parsed)
    assert got[0] == "feature 2 (id u1): lanes: Extra inputs are not permitted"
    assert got[1] == "feature 3: id: the feature has no id"
    assert got[2] == "feature 4 (id k1): kind: 'alert' is not one of event, poi, toll_notice"
    assert got[3].startswith("feature 5 (id d1): description: String should have at least 1 character")
    assert got[4] == "feature 6 (id ok): id: duplicate id (first used by feature 1)"
    assert got[5] == "feature 7: not a GeoJSON Feature"
    assert got[6] == "feature 8 (id r1): source: is reserved and cannot be a property"
    assert got[7] == ("feature 9 (id t1): start_time: time '2026-01-24 05:30' has no time zone and the source "
                      "declares none")
    assert got[8].startswith("feature 10 (id g1): geometry")


def test_time_without_zone_uses_the_source_zone() -> None:
    data = doc([event("t1", start_time="2026-01-24 05:30", updated_at="2026-01-24T06:00:00")], kind="event")
    [record] = parse(data, ParseContext(source="hnjt", zone=ZoneInfo("Asia/Shanghai"))).records
    assert record.start_time == datetime(2026, 1, 23, 21, 30, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 1, 23, 22, 0, tzinfo=UTC)


def test_missing_kind_or_updated_at_rejects_the_feature() -> None:
    parsed = parse(doc([event("a"), event("b", kind="event")]), CTX)
    assert reasons(parsed) == ["feature 1 (id a): kind: given neither by the feature nor by the collection",
                               "feature 2 (id b): updated_at: given neither by the feature nor by the collection"]


def test_bundle_style_metadata_is_read_like_top_level_members() -> None:
    data = doc([event("a")], metadata={"kind": "event", "updated_at": "2026-01-24T07:00:00+08:00"})
    [record] = parse(data, CTX).records
    assert record.updated_at == datetime(2026, 1, 23, 23, tzinfo=UTC)


@pytest.mark.parametrize(("data", "words"), [
    (b'{"type": "Feature", "id": "a", "geometry": null, "properties": {}}', "a single GeoJSON Feature"),
    (b'{"type": "Point", "coordinates": [113.6, 34.7]}', "a bare GeoJSON Point geometry"),
    (b"[]", "the document is an array, not a GeoJSON FeatureCollection"),
    (b'"FeatureCollection"', "a string"),
    (b'{"features": []}', "a JSON object without a type"),
    (b'{"type": "FeatureCollection", "features": {}}', "features is an object, not an array"),
    (b'{"type": "FeatureCollection", "features": [], "kind": "alert"}',
     "kind: 'alert' is not one of event, poi, toll_notice"),
    (b'{"type": "FeatureCollection", "features": [], "snapshot": "yes"}', "snapshot must be true or false"),
    (b'{"type": "FeatureCollection", "features": [], "updated_at": "today"}', "not an ISO 8601 time"),
    (b'{"type": "FeatureCollection", "features": [', "line 1, column 44: not valid JSON"),
    (b"[" * 100_000, "not valid JSON"),
    ('{"type": "FeatureCollection", "features": [], "title": "郑州"}'.encode("gbk"), "looks GBK-encoded"),
])
def test_stray_documents_are_refused_naming_what_they_are(data: bytes, words: str) -> None:
    with pytest.raises(FeedError) as err:
        parse(data, CTX)
    assert words in str(err.value)


def test_gbk_with_declared_charset_and_bom_are_read() -> None:
    data = doc([event("a", description="郑州至许昌段大雾")], kind="event", updated_at="2026-01-24T07:00:00+08:00")
    gbk = data.decode().encode("gbk")
    assert parse(gbk, ParseContext(source="hnjt", charset="gbk")).records == parse(data, CTX).records
    assert parse(b"\xef\xbb\xbf" + data, CTX).records == parse(data, CTX).records


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6)
    | st.sampled_from(["Feature", "FeatureCollection", "event", "poi", "2026-01-24T08:00:00+08:00", "G4"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "id", "kind", "geometry", "properties", "features", "updated_at", "snapshot",
                         "description", "road", "coordinates", "version", "x_a", "metadata"]), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(body=JSONISH, noise=st.binary(max_size=30))
def test_random_documents_raise_nothing_but_feed_error(body: Any, noise: bytes) -> None:
    shaped = {"type": "FeatureCollection", "kind": "event", "features": [body, event("a")]}
    for data in (json.dumps(body).encode(), json.dumps(shaped).encode(), noise, json.dumps(body).encode()[:-1] + noise):
        with contextlib.suppress(FeedError):
            parse(data, CTX)
