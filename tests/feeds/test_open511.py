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

from feeds.base import FeedError, ParseContext, split_road
from feeds.open511 import parse
from travel.core.records import Direction, EventStatus, EventType, RoadEvent, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "open511"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Henan
CTX = ParseContext(source="hngs", zone=SHANGHAI, received_at=NOW)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def listing() -> dict:
    return json.loads(fixture("events.json"))


def encode(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def by_id(records: list[RoadEvent]) -> dict[str, RoadEvent]:
    return {r.source_id: r for r in records}


def one_event(event: dict, ctx: ParseContext = CTX):
    return parse(encode({"events": [event]}), ctx)


# --------------------------------------------------------------------------- the JSON listing
def test_json_listing_maps_every_event():
    parsed = parse(fixture("events.json"), CTX)
    assert parsed.rejected == []
    assert parsed.snapshot is True
    events = by_id(parsed.records)
    assert len(events) == 4

    works = events["hngs.gov.cn/2026-1123-001"]
    assert works.id == "hngs:hngs.gov.cn/2026-1123-001"
    assert works.type is EventType.CONSTRUCTION
    assert works.severity is Severity.MODERATE
    assert works.status is EventStatus.ACTIVE
    assert (works.road, works.road_name) == ("G4", "京港澳高速")
    assert works.direction is Direction.UNKNOWN and works.direction_text == "北向"
    assert works.location_text == "从 许昌北枢纽 到 许昌收费站"
    assert works.lanes_affected == "部分车道封闭，开放1条车道"
    assert works.start_stake_m == 650200.0
    assert works.reduced_speed_kmh == 60
    assert works.description == "G4京港澳高速许昌段路面维修\nK650+200至K652+000北京方向外侧车道封闭施工，请减速慢行。"
    # recurring schedule: first day at the daily start, last day at the daily end, local time
    assert works.start_time == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert works.expected_end == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert works.updated_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert works.version == int(works.updated_at.timestamp() * 1000)
    assert works.geometry.type == "LineString"

    crash = events["hngs.gov.cn/2026-1124-007"]
    assert crash.type is EventType.ACCIDENT and crash.severity is Severity.MAJOR
    assert (crash.road, crash.road_name, crash.direction_text) == ("G30", "连霍高速", "西向")
    assert crash.description == "G30连霍高速郑州西收费站附近两车追尾"  # headline alone
    assert crash.start_time == datetime(2026, 11, 23, 23, 10, tzinfo=UTC) and crash.expected_end is None
    assert crash.geometry.model_dump() == {"type": "Point", "coordinates": [113.4521, 34.7865]}

    fog = events["hngs.gov.cn/2026-1118-003"]
    assert fog.type is EventType.WEATHER and fog.status is EventStatus.CLEARED
    assert (fog.road, fog.road_name, fog.direction, fog.direction_text) == ("G45", None, Direction.BOTH, "双向")

    closed = events["hngs.gov.cn/2026-1124-011"]
    assert closed.type is EventType.CLOSURE  # SPECIAL_EVENT, but the road state is CLOSED
    assert (closed.road, closed.road_name) == ("G4", "京港澳高速")
    assert closed.lanes_affected == "道路封闭"
    assert closed.restrictions.max_height_m == 4.2 and closed.restrictions.max_weight_t == 49


def test_xml_listing_gives_the_same_records_as_json():
    from_json = parse(fixture("events.json"), CTX)
    from_xml = parse(fixture("events.xml"), CTX)
    assert from_xml.rejected == []
    assert from_xml.snapshot is True
    assert [r.model_dump() for r in from_xml.records] == [r.model_dump() for r in from_json.records]


def test_one_page_of_several_is_not_a_snapshot():
    parsed = parse(fixture("page1.json"), CTX)
    assert parsed.snapshot is False
    [icy] = parsed.records
    assert (icy.type, icy.road, icy.road_name, icy.direction_text) == (EventType.HAZARD, "S22", "南林高速", "东向")


def test_xml_next_link_is_not_a_snapshot():
    doc = fixture("events.xml").replace(b"<offset>0</offset>", b'<offset>0</offset><link rel="next" href="/e?o=4"/>')
    assert parse(doc, CTX).snapshot is False


def test_active_event_that_starts_later_is_planned():
    event = listing()["events"][3]
    event["schedule"] = {"intervals": ["2026-11-25T08:00+08:00/2026-11-25T20:00+08:00"]}
    [record] = one_event(event).records
    assert record.status is EventStatus.PLANNED


def test_bom_and_leading_blanks_are_accepted_where_the_syntax_allows():
    assert len(parse(b"\xef\xbb\xbf" + fixture("events.xml"), CTX).records) == 4
    assert len(parse(b"\xef\xbb\xbf \n" + fixture("events.json"), CTX).records) == 4
    with pytest.raises(FeedError, match="not well-formed XML"):  # XML 1.0: the declaration comes first
        parse(b"\n" + fixture("events.xml"), CTX)


def test_extensions_other_than_the_stake_are_ignored():
    event = listing()["events"][1]
    event["+hn_camera_url"] = "https://example.invalid/cam/12"
    event["+linear_reference_km"] = 612.35
    [record] = one_event(event).records
    assert record.start_stake_m == 612350.0


def test_event_and_road_restrictions_keep_the_tightest_limit():
    event = listing()["events"][3]
    event["restrictions"] = [{"type": "HEIGHT", "value": 3.8}, {"type": "AXLE_WEIGHT", "value": 10}]
    event["roads"][0]["restrictions"].append({"restriction_type": "WIDTH", "value": 3.0})
    [record] = one_event(event).records
    assert record.restrictions.model_dump() == {
        "max_height_m": 3.8,
        "max_weight_t": 49,
        "max_axle_load_t": 10,
        "forbidden_classes": [],
    }


# --------------------------------------------------------------------------- rejected events
def mutate(index: int, change) -> dict:
    doc = listing()
    change(doc["events"][index])
    return doc


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e.update(id="hngs.gov.cn/2026 1124 007"), "contains whitespace"),
        (lambda e: e.pop("id"), "id is missing"),
        (lambda e: e.update(event_type="TRAFFIC_JAM"), "unknown event_type 'TRAFFIC_JAM'"),
        (lambda e: e.update(severity="CATASTROPHIC"), "unknown severity 'CATASTROPHIC'"),
        (lambda e: e.update(status="PENDING"), "unknown status 'PENDING'"),
        (lambda e: e.pop("status"), "status is missing"),
        (lambda e: e["roads"][0].update(direction="NE"), "unknown roads[].direction 'NE'"),
        (lambda e: e["roads"][0].update(state="FLOODED"), "unknown roads[].state 'FLOODED'"),
        (lambda e: e.pop("headline"), "headline and description are both missing"),
        (lambda e: e.pop("updated") and e.pop("created"), "updated (and created) is missing"),
        (lambda e: e.update(schedule={"intervals": ["2026-11-24"]}), "is not 'start/end'"),
        (lambda e: e.update(schedule={"intervals": ["soon/"]}), "is not an ISO 8601 time"),
        (lambda e: e.update(geography={"type": "Point", "coordinates": [200.0, 34.7]}), "longitude 200.0"),
        (lambda e: e.update(geography={"type": "LineString", "coordinates": [[113.4, 34.7]]}), "malformed LineString"),
        (lambda e: e.update(roads="G30"), "roads must be an array"),
        (lambda e: e["roads"][0].update(lanes_open="two"), "lanes_open 'two' is not a number"),
        (lambda e: e.update(restrictions=[{"type": "COLOUR", "value": 1}]), "unknown restriction type 'COLOUR'"),
    ],
)
def test_bad_event_is_rejected_by_id_and_the_others_kept(change, reason):
    parsed = parse(encode(mutate(1, change)), CTX)
    assert len(parsed.records) == 3
    [rejected] = parsed.rejected
    assert rejected.where.startswith("event 2")
    assert reason in rejected.reason


def test_rejection_names_the_event_id():
    parsed = parse(encode(mutate(1, lambda e: e.update(event_type="TRAFFIC_JAM"))), CTX)
    assert parsed.rejected[0].where == "event 2 (id hngs.gov.cn/2026-1124-007)"


def test_recurring_schedule_needs_the_source_zone():
    parsed = parse(fixture("events.json"), ParseContext(source="hngs", received_at=NOW))
    assert [r.where for r in parsed.rejected] == ["event 1 (id hngs.gov.cn/2026-1123-001)"]
    assert "recurring schedule start '2026-11-21T08:00' has no time zone" in parsed.rejected[0].reason
    assert len(parsed.records) == 3


def test_times_without_zone_are_read_in_the_source_zone_or_refused():
    event = listing()["events"][1]
    event["updated"] = "2026-11-24T07:40:00"
    [record] = one_event(event).records
    assert record.updated_at == datetime(2026, 11, 23, 23, 40, tzinfo=UTC)
    parsed = one_event(event, ParseContext(source="hngs", received_at=NOW))
    assert parsed.records == []
    assert parsed.rejected[0].reason == "updated '2026-11-24T07:40:00' has no time zone and the source declares none"


def test_an_event_that_is_not_an_object_is_rejected():
    doc = listing()
    doc["events"].insert(0, "hngs.gov.cn/2026-1124-099")
    parsed = parse(encode(doc), CTX)
    assert len(parsed.records) == 4
    assert str(parsed.rejected[0]) == "event 1: an event must be an object, not str"


# --------------------------------------------------------------------------- XML geography
def xml_event(geography: str) -> bytes:
    return (
        '<open511 xmlns:gml="http://www.opengis.net/gml"><events><event>'
        "<id>hngs.gov.cn/x-1</id><event_type>INCIDENT</event_type><status>ACTIVE</status>"
        "<headline>G30连霍高速洛阳段事故</headline><updated>2026-11-24T07:40:00+08:00</updated>"
        f"<geography>{geography}</geography></event></events></open511>"
    ).encode()


@pytest.mark.parametrize(
    ("gml", "geometry"),
    [
        ("<gml:Point><gml:pos>112.45 34.62</gml:pos></gml:Point>", {"type": "Point", "coordinates": [112.45, 34.62]}),
        (
            '<gml:Point srsName="http://www.opengis.net/def/crs/EPSG/0/4326">'
            "<gml:pos>34.62 112.45</gml:pos></gml:Point>",
            {"type": "Point", "coordinates": [112.45, 34.62]},
        ),
        (
            '<gml:LineString srsName="urn:ogc:def:crs:EPSG::4326" srsDimension="3">'
            "<gml:posList>34.62 112.45 120 34.65 112.50 121</gml:posList></gml:LineString>",
            {"type": "LineString", "coordinates": [[112.45, 34.62], [112.50, 34.65]]},
        ),
        (
            "<gml:LineString><gml:coordinates>112.45,34.62 112.50,34.65</gml:coordinates></gml:LineString>",
            {"type": "LineString", "coordinates": [[112.45, 34.62], [112.50, 34.65]]},
        ),
        (
            "<gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>112.4 34.6 112.5 34.6 112.5 34.7 112.4 34.6"
            "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
            {"type": "Polygon", "coordinates": [[[112.4, 34.6], [112.5, 34.6], [112.5, 34.7], [112.4, 34.6]]]},
        ),
        (
            "<gml:MultiCurve><gml:curveMember><gml:LineString><gml:posList>112.4 34.6 112.5 34.6</gml:posList>"
            "</gml:LineString></gml:curveMember><gml:curveMember><gml:LineString><gml:posList>112.5 34.6 112.6 34.7"
            "</gml:posList></gml:LineString></gml:curveMember></gml:MultiCurve>",
            {
                "type": "MultiLineString",
                "coordinates": [[[112.4, 34.6], [112.5, 34.6]], [[112.5, 34.6], [112.6, 34.7]]],
            },
        ),
    ],
)
def test_gml_geography(gml, geometry):
    [record] = parse(xml_event(gml), CTX).records
    assert record.geometry.model_dump() == geometry


@pytest.mark.parametrize(
    ("gml", "reason"),
    [
        ('<gml:Point srsName="EPSG:3857"><gml:pos>1 2</gml:pos></gml:Point>', "srsName 'EPSG:3857' is not WGS84"),
        ("<gml:Point><gml:pos>200 34.6</gml:pos></gml:Point>", "longitude 200.0"),
        ("<gml:LineString><gml:posList>112.4 34.6 112.5</gml:posList></gml:LineString>", "not pairs"),
        ("<gml:LineString><gml:posList>112.4 34.6</gml:posList></gml:LineString>", "malformed LineString"),
        ("<gml:Point><gml:pos>east north</gml:pos></gml:Point>", "not a number"),
        ("<gml:Surface/>", "GML Surface is not supported"),
    ],
)
def test_bad_gml_rejects_the_event(gml, reason):
    parsed = parse(xml_event(gml), CTX)
    assert parsed.records == []
    assert parsed.rejected[0].where == "event 1 (id hngs.gov.cn/x-1)"
    assert reason in parsed.rejected[0].reason


# --------------------------------------------------------------------------- refused documents
@pytest.mark.parametrize(
    ("data", "reason", "where"),
    [
        (b'{"events": [{"id": 1,}]}', "not valid JSON", "line 1, column 22"),
        (b'{"events": [\n  {"id": "a"\n', "not valid JSON", "line 3, column 1"),
        (b'[{"id": "hngs.gov.cn/1"}]', "the document is a JSON list, not an object", None),
        (b'{"meta": {}}', "no 'events' array", None),
        (b'{"events": [], "pagination": "next"}', "'pagination' must be an object", "pagination"),
        (b'{"events": [NaN]}', "NaN is not a JSON value", None),
        (b"[" * 100_000, "not valid JSON", None),
        (b"events: []", "starts with neither", None),
        (b"", "starts with neither", None),
        (b"<open511><events><event><id>a</id>", "not well-formed XML", "line 1, column 35"),
        (b"<events/>", "the root element is <events>", None),
        (b"<open511><meta/></open511>", "no <events> element", None),
    ],
)
def test_unreadable_documents_are_refused(data, reason, where):
    with pytest.raises(FeedError) as err:
        parse(data, CTX)
    assert reason in err.value.reason
    if where is not None:
        assert err.value.where == where


def test_truncated_documents_are_refused():
    for name in ("events.json", "events.xml"):
        data = fixture(name)
        with pytest.raises(FeedError):
            parse(data[: len(data) // 2], CTX)


def test_xml_bomb_and_external_entities_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<open511><events><event><headline>&lol2;</headline></event></events></open511>"
    )
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE open511 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<open511><events><event><headline>&xxe;</headline></event></events></open511>"
    )
    for doc in (bomb, xxe):
        with pytest.raises(FeedError, match="refused"):
            parse(doc, CTX)


def test_gbk_json_is_refused_unless_the_charset_says_so():
    data = fixture("events.json").decode().encode("gbk")
    with pytest.raises(FeedError, match="looks GBK-encoded"):
        parse(data, CTX)
    gbk = ParseContext(source="hngs", zone=SHANGHAI, received_at=NOW, charset="GBK")
    assert len(parse(data, gbk).records) == 4


def test_gbk_xml_is_read_when_declared_and_refused_when_not():
    text = fixture("events.xml").decode()
    assert len(parse(text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"), CTX).records) == 4
    with pytest.raises(FeedError, match="not valid UTF-8"):
        parse(text.encode("gbk"), CTX)


# --------------------------------------------------------------------------- road words
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("G4", ("G4", None)),
        ("G4京港澳高速", ("G4", "京港澳高速")),
        ("g4 京港澳高速", ("G4", "京港澳高速")),
        ("京港澳高速(G4)", ("G4", "京港澳高速")),
        ("京港澳高速（G4）", ("G4", "京港澳高速")),
        ("G0421许广高速", ("G0421", "许广高速")),
        ("S22南林高速", ("S22", "南林高速")),
        ("京港澳高速", (None, "京港澳高速")),
        ("G12345", (None, "G12345")),
        ("GS4", (None, "GS4")),
    ],
)
def test_split_road(words, expected):
    assert split_road(words) == expected


def test_road_words_without_a_code_lead_the_location_text():
    event = listing()["events"][0]
    event["roads"][0]["name"] = "许昌市区连接线"
    [record] = one_event(event).records
    assert (record.road, record.road_name) == (None, "许昌市区连接线")
    assert record.location_text == "许昌市区连接线 从 许昌北枢纽 到 许昌收费站"


# --------------------------------------------------------------------------- properties
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_nothing_but_feed_error(data):
    for doc in (data, b"{" + data, b"<open511>" + data):
        with contextlib.suppress(FeedError):
            parse(doc, CTX)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
EVENT_KEYS = [
    "id",
    "event_type",
    "severity",
    "status",
    "headline",
    "description",
    "updated",
    "schedule",
    "geography",
    "roads",
    "restrictions",
    "+linear_reference_km",
]
ROAD_KEYS = ["name", "from", "to", "direction", "state", "lanes_open", "restrictions", "+linear_reference_km"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 3),
    st.sampled_from(EVENT_KEYS + [f"roads.{k}" for k in ROAD_KEYS]),
    json_values,
)
def test_mutated_events_are_kept_or_rejected_never_crash(index, key, value):
    doc = copy.deepcopy(listing())
    event = doc["events"][index]
    if key.startswith("roads."):
        event.setdefault("roads", [{}])[0][key.removeprefix("roads.")] = value
    else:
        event[key] = value
    parsed = parse(encode(doc), CTX)
    assert len(parsed.records) + len(parsed.rejected) == 4
    assert parse(encode(doc), CTX).records == parsed.records  # deterministic


def test_absurdly_nested_xml_rejects_only_that_event():
    deep = "<x>" * 3000 + "</x>" * 3000
    doc = (
        fixture("events.xml")
        .decode()
        .replace("<id>hngs.gov.cn/2026-1124-007</id>", f"<id>hngs.gov.cn/2026-1124-007</id>{deep}")
    )
    parsed = parse(doc.encode(), CTX)
    assert len(parsed.records) == 3
    assert str(parsed.rejected[0]) == "event 2 (id hngs.gov.cn/2026-1124-007): the event is nested too deeply to read"


def test_a_number_too_large_for_a_float_rejects_the_event():
    data = fixture("events.json").replace(b'"+linear_reference_km": 650.2', b'"+linear_reference_km": 1' + b"0" * 400)
    parsed = parse(data, CTX)
    assert parsed.rejected[0].reason == "+linear_reference_km is not a finite number"
