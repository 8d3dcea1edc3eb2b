from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.base import FeedError, ParseContext
from feeds.wzdx import parse
from travel.core.records import Direction, EventStatus, EventType, RoadEvent, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "wzdx"
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Henan
CTX = ParseContext(source="hnwz", received_at=NOW)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def feed(name: str = "v4_2.geojson") -> dict:
    return json.loads(fixture(name))


def encode(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def by_id(records: list[RoadEvent]) -> dict[str, RoadEvent]:
    return {r.source_id: r for r in records}


# --------------------------------------------------------------------------- fixtures
def test_v4_2_feed():
    parsed = parse(fixture("v4_2.geojson"), CTX)
    assert parsed.rejected == []
    assert parsed.snapshot is True
    zones = by_id(parsed.records)
    assert len(zones) == 2

    xuchang = zones["hn-wz-2026-0451"]
    assert xuchang.id == "hnwz:hn-wz-2026-0451"
    assert xuchang.type is EventType.CONSTRUCTION
    assert xuchang.severity is Severity.UNKNOWN
    assert xuchang.status is EventStatus.ACTIVE
    assert (xuchang.road, xuchang.road_name) == ("G4", "京港澳高速")
    assert xuchang.direction is Direction.UNKNOWN and xuchang.direction_text == "北向"
    assert xuchang.description.startswith("G4京港澳高速许昌段K650+200至K652+000")
    assert (xuchang.start_stake_m, xuchang.end_stake_m) == (650200.0, 652000.0)
    assert xuchang.start_time == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert xuchang.expected_end == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert xuchang.updated_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # core_details.update_date
    assert xuchang.version == int(xuchang.updated_at.timestamp() * 1000)
    assert xuchang.lanes_affected == "部分车道封闭，向左并道"
    assert xuchang.location_text == "从 许昌北枢纽 到 许昌收费站"
    assert xuchang.reduced_speed_kmh == 60
    assert xuchang.restrictions is None
    assert xuchang.geometry.type == "LineString" and len(xuchang.geometry.coordinates) == 3

    zhoukou = zones["hn-wz-2026-0460"]
    assert zhoukou.type is EventType.CLOSURE  # all-lanes-closed
    assert (zhoukou.road, zhoukou.road_name, zhoukou.direction_text) == ("G45", "大广高速", "南向")
    assert zhoukou.description == "G45大广高速施工作业区"  # composed: no description or name
    assert zhoukou.lanes_affected == "全部车道封闭"
    assert zhoukou.restrictions.max_height_m == pytest.approx(4.42)  # 14.5 ft
    assert zhoukou.geometry.model_dump() == {
        "type": "LineString",
        "coordinates": [[114.6496, 33.6254], [114.6431, 33.5902]],
    }


def test_v4_0_feed():
    parsed = parse(fixture("v4_0.geojson"), CTX)
    assert parsed.rejected == []
    zones = by_id(parsed.records)
    night = zones["zz-wz-0087"]
    assert night.status is EventStatus.PLANNED  # starts 30 Nov
    assert (night.road, night.road_name, night.direction_text) == ("G30", None, "西向")
    assert night.description == "G30施工作业区"
    assert night.updated_at == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # from feed_info
    assert night.lanes_affected == "单车道交替通行"
    assert night.restrictions.max_axle_load_t == 10
    assert night.reduced_speed_kmh == 40
    detour = zones["zz-wz-0090"]
    assert detour.type is EventType.CONTROL
    assert detour.road == "G107"
    assert detour.geometry.model_dump() == {"type": "Point", "coordinates": [113.941, 33.806]}  # one-point MultiPoint


def test_v3_feed():
    parsed = parse(fixture("v3_1.geojson"), CTX)
    assert parsed.rejected == []
    [zone] = parsed.records
    assert zone.source_id == "zk-0012"
    assert (zone.road, zone.road_name, zone.direction_text) == ("S38", "新阳高速", "东向")
    assert zone.start_stake_m == 88500.0 and zone.end_stake_m is None
    assert zone.reduced_speed_kmh == pytest.approx(72.4)  # 45 mph
    assert zone.description == "S38新阳高速周口段路面修补，占用内侧车道。"
    assert zone.updated_at == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2026-11-25T08:00:00+08:00", "2026-11-26T08:00:00+08:00", EventStatus.PLANNED),
        ("2026-11-20T08:00:00+08:00", "2026-11-24T08:00:00+08:00", EventStatus.CLEARED),
        ("2026-11-24T08:00:00+08:00", "2026-11-24T10:00:00+08:00", EventStatus.ACTIVE),
    ],
)
def test_status_is_judged_at_reception(start, end, status):
    doc = feed()
    doc["features"][0]["properties"].update(start_date=start, end_date=end)
    assert by_id(parse(encode(doc), CTX).records)["hn-wz-2026-0451"].status is status


@pytest.mark.parametrize(
    ("restriction", "field", "value"),
    [
        ({"type": "reduced-height", "value": 160, "unit": "inches"}, "max_height_m", 4.064),
        ({"type": "reduced-height", "value": 420, "unit": "centimeters"}, "max_height_m", 4.2),
        ({"type": "reduced-height", "value": 4.5}, "max_height_m", 4.5),
        ({"type": "reduced-weight", "value": 40, "unit": "tons"}, "max_weight_t", 36.287),
        ({"type": "gross-weight-limit", "value": 20000, "unit": "kilograms"}, "max_weight_t", 20),
        ({"type": "axle-load-limit", "value": 22046, "unit": "pounds"}, "max_axle_load_t", 10),
    ],
)
def test_restrictions_in_metres_and_tonnes(restriction, field, value):
    doc = feed()
    doc["features"][1]["properties"]["restrictions"] = [restriction, {"type": "no-trucks"}]
    record = by_id(parse(encode(doc), CTX).records)["hn-wz-2026-0460"]
    assert getattr(record.restrictions, field) == pytest.approx(value, abs=1e-3)


def test_speed_in_mph_is_converted():
    doc = feed()
    props = doc["features"][0]["properties"]
    del props["reduced_speed_limit_kph"]
    props["reduced_speed_limit_mph"] = 35
    assert by_id(parse(encode(doc), CTX).records)["hn-wz-2026-0451"].reduced_speed_kmh == pytest.approx(56.3)


def test_times_without_zone_use_the_source_zone_or_are_refused():
    doc = feed()
    doc["features"][0]["properties"]["start_date"] = "2026-11-21T08:00:00"
    parsed = parse(encode(doc), CTX)
    assert [str(r) for r in parsed.rejected] == [
        "feature 1 (id hn-wz-2026-0451): start_date '2026-11-21T08:00:00' has no time zone and the source declares none"
    ]
    zoned = ParseContext(source="hnwz", received_at=NOW, zone=ZoneInfo("Asia/Shanghai"))
    record = by_id(parse(encode(doc), zoned).records)["hn-wz-2026-0451"]
    assert record.start_time == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- rejected features
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f.pop("id"), "id is missing"),
        (lambda f: f.update(id="hn wz 1"), "contains whitespace"),
        (lambda f: f.pop("properties"), "properties is missing"),
        (lambda f: f["properties"]["core_details"].update(event_type="lane-closure"), "unknown event_type 'lane-"),
        (lambda f: f["properties"]["core_details"].pop("event_type"), "event_type is missing"),
        (lambda f: f["properties"]["core_details"].update(direction="up"), "unknown direction 'up'"),
        (lambda f: f["properties"].update(vehicle_impact="half-closed"), "unknown vehicle_impact 'half-closed'"),
        (lambda f: f["properties"]["core_details"].update(road_names=[]), "road_names is missing"),
        (lambda f: f["properties"]["core_details"].update(road_names="G4"), "road_names must be an array"),
        (lambda f: f["properties"].pop("start_date"), "start_date is missing"),
        (lambda f: f["properties"].update(end_date="next week"), "end_date 'next week' is not an ISO 8601 time"),
        (lambda f: f["properties"].update(end_date="2026-11-01T00:00:00Z"), "expected_end is before start_time"),
        (lambda f: f["properties"].update(beginning_milepost="K650"), "beginning_milepost 'K650' is not a number"),
        (
            lambda f: f["properties"].update(restrictions=[{"type": "reduced-height", "value": 4, "unit": "furlongs"}]),
            "unknown restriction unit 'furlongs'",
        ),
        (
            lambda f: f["properties"].update(restrictions=[{"type": "reduced-height", "value": 4, "unit": "tons"}]),
            "cannot be measured in 'tons'",
        ),
        (
            lambda f: f["properties"].update(restrictions=[{"type": "reduced-fun", "value": 4}]),
            "unknown restriction type 'reduced-fun'",
        ),
        (
            lambda f: f.update(geometry={"type": "LineString", "coordinates": [[200.0, 34.0], [113.8, 34.1]]}),
            "longitude 200.0",
        ),
        (lambda f: f.update(geometry={"type": "LineString", "coordinates": [[113.8, 34.0]]}), "malformed LineString"),
        (lambda f: f.update(geometry={"type": "Polygon", "coordinates": []}), "'Polygon' is not a LineString"),
        (lambda f: f.update(geometry={"type": "MultiPoint", "coordinates": []}), "needs at least one position"),
        (lambda f: f.pop("geometry"), "geometry must be a GeoJSON geometry object"),
    ],
)
def test_bad_feature_is_rejected_by_index_and_id_and_the_other_kept(change, reason):
    doc = feed()
    change(doc["features"][0])
    parsed = parse(encode(doc), CTX)
    assert [r.source_id for r in parsed.records] == ["hn-wz-2026-0460"]
    [rejected] = parsed.rejected
    assert rejected.where in ("feature 1 (id hn-wz-2026-0451)", "feature 1")
    assert reason in rejected.reason


def test_missing_update_dates_reject_the_feature():
    doc = feed()
    del doc["feed_info"]["update_date"]
    del doc["features"][0]["properties"]["core_details"]["update_date"]
    parsed = parse(encode(doc), CTX)
    assert len(parsed.records) == 1
    assert parsed.rejected[0].reason == "update_date is missing, in the feature and in feed_info"


def test_a_feature_that_is_not_an_object_is_rejected():
    doc = feed()
    doc["features"].append(["hn-wz-9"])
    parsed = parse(encode(doc), CTX)
    assert len(parsed.records) == 2
    assert str(parsed.rejected[0]) == "feature 3: a feature must be an object, not list"


# --------------------------------------------------------------------------- refused documents
@pytest.mark.parametrize(
    ("data", "reason", "where"),
    [
        (b'{"feed_info": {}, "features": [}', "not valid JSON", "line 1, column 32"),
        (b'{"feed_info": {},\n "type": "FeatureCollection",\n "features": [', "not valid JSON", "line 3, column 15"),
        (b'["feed_info"]', "the document is a JSON list, not an object", None),
        (b'{"type": "FeatureCollection", "features": []}', "not a WZDx feed: no feed_info", None),
        (b'{"feed_info": [], "type": "FeatureCollection", "features": []}', "not a WZDx feed: no feed_info", None),
        (b'{"feed_info": {}, "type": "Feature", "features": []}', "not a GeoJSON FeatureCollection", None),
        (b'{"feed_info": {}, "type": "FeatureCollection"}', "not a GeoJSON FeatureCollection", None),
        (b'{"feed_info": {"version": "5.0"}, "type": "FeatureCollection", "features": []}', "'5.0' is not", None),
        (b"", "not valid JSON", "line 1, column 1"),
        (b"<FeatureCollection/>", "not valid JSON", "line 1, column 1"),
    ],
)
def test_unreadable_documents_are_refused(data, reason, where):
    with pytest.raises(FeedError) as err:
        parse(data, CTX)
    assert reason in err.value.reason
    if where is not None:
        assert err.value.where == where


def test_truncated_feed_is_refused():
    data = fixture("v4_2.geojson")
    with pytest.raises(FeedError, match="not valid JSON"):
        parse(data[:-40], CTX)


def test_gbk_feed_is_refused_unless_the_charset_says_so():
    data = fixture("v4_2.geojson").decode().encode("gbk")
    with pytest.raises(FeedError, match="looks GBK-encoded"):
        parse(data, CTX)
    assert len(parse(data, ParseContext(source="hnwz", received_at=NOW, charset="gb2312")).records) == 2


def test_empty_feed_is_an_empty_snapshot():
    doc = feed()
    doc["features"] = []
    parsed = parse(encode(doc), CTX)
    assert parsed.records == [] and parsed.snapshot is True


# --------------------------------------------------------------------------- properties
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_nothing_but_feed_error(data):
    for doc in (data, b'{"feed_info": {}, "type": "FeatureCollection", "features": [' + data):
        with contextlib.suppress(FeedError):
            parse(doc, CTX)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PATHS = [
    ("id",),
    ("geometry",),
    ("properties",),
    ("properties", "core_details"),
    *[
        ("properties", "core_details", k)
        for k in ("event_type", "road_names", "direction", "description", "name", "update_date")
    ],
    *[
        ("properties", k)
        for k in (
            "start_date",
            "end_date",
            "vehicle_impact",
            "beginning_milepost",
            "ending_milepost",
            "reduced_speed_limit_kph",
            "restrictions",
            "beginning_cross_street",
        )
    ],
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1), st.sampled_from(PATHS), json_values)
def test_mutated_features_are_kept_or_rejected_never_crash(index, path, value):
    doc = copy.deepcopy(feed())
    target = doc["features"][index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    parsed = parse(encode(doc), CTX)
    assert len(parsed.records) + len(parsed.rejected) == 2
    assert parse(encode(doc), CTX).records == parsed.records  # deterministic


def test_a_milepost_too_large_for_a_float_rejects_the_feature():
    data = fixture("v4_2.geojson").replace(b'"beginning_milepost": 650.2', b'"beginning_milepost": 9' + b"9" * 400)
    parsed = parse(data, CTX)
    assert len(parsed.records) == 1
    assert str(parsed.rejected[0]) == "feature 1 (id hn-wz-2026-0451): beginning_milepost is not a finite number"
