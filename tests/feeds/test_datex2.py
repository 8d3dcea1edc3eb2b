from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import ParseError
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.base import FeedError, ParseContext, Parsed, version_of
from feeds.datex2 import parse
from travel.core.records import Direction, EventStatus, EventType, RoadEvent, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "datex2"
NOW = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)  # 09:00 in Zhengzhou
CTX = ParseContext(source="hngs", received_at=NOW)
V2 = "http://datex2.eu/schema/2/2_0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_id(parsed: Parsed) -> dict[str, RoadEvent]:
    return {r.source_id: r for r in parsed.records}  # type: ignore[union-attr]


def record(
    rid: str = "HN-1",
    *,
    kind: str = "Accident",
    version_time: str | None = "2026-01-15T08:20:00+08:00",
    created: str | None = "2026-01-15T08:00:00+08:00",
    severity: str | None = None,
    validity: str = "<validityStatus>active</validityStatus>",
    comment: str | None = None,
    location: str = "",
    extra: str = "",
) -> str:
    parts = [f'<situationRecord xsi:type="{kind}" id="{rid}" version="1">']
    if created:
        parts.append(f"<situationRecordCreationTime>{created}</situationRecordCreationTime>")
    if version_time:
        parts.append(f"<situationRecordVersionTime>{version_time}</situationRecordVersionTime>")
    if severity:
        parts.append(f"<severity>{severity}</severity>")
    parts.append(f"<validity>{validity}</validity>")
    if comment:
        parts.append(f"<generalPublicComment><comment><values>{comment}</values></comment></generalPublicComment>")
    if location:
        parts.append(f"<groupOfLocations>{location}</groupOfLocations>")
    parts.append(extra + "</situationRecord>")
    return "".join(parts)


def v2(*records: str, exchange: str = "", publication: str = "SituationPublication", overall: str = "") -> bytes:
    situations = "".join(f'<situation id="S{i}">{overall}{r}</situation>' for i, r in enumerate(records))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><d2LogicalModel xmlns="{V2}" xmlns:xsi="{XSI}">{exchange}'
        f'<payloadPublication xsi:type="{publication}" lang="zh"><publicationTime>2026-01-15T08:30:00+08:00'
        f"</publicationTime>{situations}</payloadPublication></d2LogicalModel>"
    ).encode()


def point(lat: str, lon: str) -> str:
    coordinates = f"<latitude>{lat}</latitude><longitude>{lon}</longitude>"
    return f"<pointByCoordinates><pointCoordinates>{coordinates}</pointCoordinates></pointByCoordinates>"


ROAD_G30 = "<pointAlongLinearElement><linearElement><roadNumber>G30</roadNumber></linearElement>" + (
    "</pointAlongLinearElement>"
)


# --------------------------------------------------------------------------- v2 snapshot fixture
def test_v2_snapshot_reads_every_record() -> None:
    parsed = parse(fixture("v2_snapshot.xml"), CTX)
    assert parsed.snapshot is True
    assert parsed.rejected == []
    assert [r.source_id for r in parsed.records] == [
        "HN-ACC-20260115-001",
        "HN-RW-20260110-007",
        "HN-WX-20260115-003",
        "HN-CL-20260115-004",
    ]


def test_v2_accident_point_on_g30() -> None:
    acc = by_id(parse(fixture("v2_snapshot.xml"), CTX))["HN-ACC-20260115-001"]
    assert acc.id == "hngs:HN-ACC-20260115-001"
    assert acc.type is EventType.ACCIDENT
    assert acc.severity is Severity.MAJOR  # the situation's overallSeverity: the record has none
    assert acc.status is EventStatus.ACTIVE
    assert acc.updated_at == datetime(2026, 1, 15, 0, 20, tzinfo=UTC)
    assert acc.version == version_of(datetime(2026, 1, 15, 0, 20, tzinfo=UTC))
    assert acc.geometry is not None and acc.geometry.type == "Point"
    assert acc.geometry.coordinates == [112.9855, 34.7468]  # pointByCoordinates wins over locationForDisplay
    assert (acc.road, acc.road_name, acc.start_stake_m, acc.end_stake_m) == ("G30", "连霍高速", 600000.0, None)
    assert acc.direction is Direction.DECREASING
    assert acc.direction_text == "西向"
    assert acc.description.startswith("G30连霍高速郑州往洛阳方向K600+000")  # zh preferred over the en value
    assert acc.start_time == datetime(2026, 1, 14, 23, 50, tzinfo=UTC)
    assert acc.expected_end == datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    assert acc.lanes_affected == "第1车道，第2车道，2条车道受限"


def test_v2_roadworks_linear_with_coordinates_and_stakes() -> None:
    rw = by_id(parse(fixture("v2_snapshot.xml"), CTX))["HN-RW-20260110-007"]
    assert rw.type is EventType.CONSTRUCTION
    assert rw.severity is Severity.MODERATE
    assert rw.status is EventStatus.ACTIVE  # definedByValidityTimeSpec, inside its span
    assert rw.geometry is not None and rw.geometry.type == "LineString"
    assert rw.geometry.coordinates == [[113.8521, 34.0412], [113.8533, 34.0571]]
    assert (rw.road, rw.road_name) == ("G4", "京港澳高速")  # "G4京港澳高速" split into code and name
    assert (rw.start_stake_m, rw.end_stake_m) == (650200.0, 652000.0)
    assert rw.direction is Direction.DECREASING
    assert rw.direction_text == "北向"
    assert rw.lanes_affected == "超车道"
    assert rw.description.startswith("G4京港澳高速许昌段")  # lang="zh-CN"


def test_v2_fog_without_comment_gets_a_composed_description() -> None:
    fog = by_id(parse(fixture("v2_snapshot.xml"), CTX))["HN-WX-20260115-003"]
    assert fog.type is EventType.WEATHER
    assert fog.severity is Severity.SEVERE
    assert fog.geometry is None
    assert (fog.start_stake_m, fog.end_stake_m) == (1820500.0, 1845300.0)  # referent K1820 + 500 m
    assert fog.direction is Direction.BOTH
    assert fog.description == "G45 大广高速 K1820+500–K1845+300 大雾"


def test_v2_closure_with_alertc_only_location() -> None:
    closure = by_id(parse(fixture("v2_snapshot.xml"), CTX))["HN-CL-20260115-004"]
    assert closure.type is EventType.CLOSURE
    assert closure.geometry is None
    assert (closure.road, closure.road_name) == ("G30", "连霍高速")
    assert closure.direction is Direction.BOTH
    assert closure.location_text == (
        "洛阳东枢纽；郑州西枢纽；AlertC 位置表 41（版本 2.0） 主位置码 12360 次位置码 12345 双向"
    )
    assert "双向封闭" in closure.description


def test_v2_delta_exchange_is_not_a_snapshot() -> None:
    parsed = parse(fixture("v2_delta.xml"), CTX)
    assert parsed.snapshot is False
    (acc,) = parsed.records
    assert acc.status is EventStatus.CLEARED  # validityStatus suspended
    assert acc.severity is Severity.MINOR
    assert acc.version > version_of(datetime(2026, 1, 15, 0, 20, tzinfo=UTC))  # supersedes the snapshot's


@pytest.mark.parametrize(
    ("exchange", "snapshot"),
    [
        ("", True),
        ("<exchange><updateMethod>snapshot</updateMethod></exchange>", True),
        ("<exchange><subscription><updateMethod>allElementUpdate</updateMethod></subscription></exchange>", True),
        ("<exchange><subscription><updateMethod>singleElementUpdate</updateMethod></subscription></exchange>", False),
        ("<exchange><updateMethod>somethingNew</updateMethod></exchange>", False),
    ],
)
def test_update_method_decides_snapshot(exchange: str, snapshot: bool) -> None:
    assert parse(v2(record(), exchange=exchange), CTX).snapshot is snapshot


# --------------------------------------------------------------------------- v3
def test_v3_payload() -> None:
    parsed = parse(fixture("v3_payload.xml"), CTX)
    assert parsed.snapshot is True
    assert parsed.rejected == []
    events = by_id(parsed)
    acc = events["HN3-ACC-001"]
    assert acc.type is EventType.ACCIDENT  # xsi:type="sit:Accident": prefix stripped
    assert acc.geometry is not None and acc.geometry.coordinates == [112.9855, 34.7468]
    assert acc.description == "G30 连霍高速 K600+000 交通事故"
    rw = events["HN3-RW-002"]
    assert rw.type is EventType.CONSTRUCTION
    assert rw.status is EventStatus.PLANNED  # starts 2026-01-20, received 2026-01-15
    assert rw.severity is Severity.MINOR
    assert rw.geometry is not None
    assert rw.geometry.coordinates == [[114.0271, 33.5832], [114.0262, 33.5951], [114.0259, 33.6047]]
    assert (rw.road, rw.road_name, rw.start_stake_m, rw.end_stake_m) == ("G4", "京港澳高速", 700000.0, 702500.0)
    assert rw.direction is Direction.INCREASING
    assert rw.lanes_affected == "应急车道"
    fog = events["HN3-WX-003"]
    assert fog.type is EventType.WEATHER
    assert fog.version == version_of(datetime(2026, 1, 14, 21, 40, tzinfo=UTC))  # creation time: no version time
    assert fog.description.startswith("G30连霍高速郑州至洛阳段出现大雾")  # zh-CN preferred over en
    assert (fog.start_stake_m, fog.end_stake_m) == (590000.0, 715400.0)  # referentName K590+000
    assert fog.direction_text == "西向"
    assert fog.location_text is None  # referent ids are not location words
    closure = events["HN3-CL-004"]
    assert closure.type is EventType.CLOSURE  # carriagewayClosures
    assert closure.severity is Severity.SEVERE
    assert closure.location_text == "AlertC 位置表 41（版本 2.0） 主位置码 12345 次位置码 12360 反向"
    assert closure.description.endswith("道路封闭")


def test_v3_message_container() -> None:
    parsed = parse(fixture("v3_container.xml"), CTX)
    assert parsed.snapshot is True
    assert parsed.rejected == []
    events = by_id(parsed)
    speed = events["ZZ-SPD-1"]
    assert speed.type is EventType.CONTROL
    assert speed.reduced_speed_kmh == 80
    assert speed.geometry is not None  # CRS84 posList, 3 numbers a position
    assert speed.geometry.coordinates == [[113.6801, 34.6402], [113.7012, 34.5001]]
    assert speed.description == "G4 京港澳高速 限速管制"
    other = events["ZZ-EVT-2"]
    assert other.type is EventType.OTHER
    assert other.status is EventStatus.CLEARED
    assert other.description == "郑州国际会展中心 北向 交通事件（DATEX II 类型：PublicEvent）"
    assert other.location_text == "郑州国际会展中心"


def test_v3_container_delta_and_foreign_payload() -> None:
    text = fixture("v3_container.xml").decode()
    delta = text.replace(
        "<ex:dynamicInformation>", "<ex:updateMethod>singleElementUpdate</ex:updateMethod><ex:dynamicInformation>"
    )
    assert parse(delta.encode(), CTX).snapshot is False
    measured = text.replace('xsi:type="sit:SituationPublication"', 'xsi:type="mst:MeasuredDataPublication"')
    with pytest.raises(FeedError, match="MeasuredDataPublication"):
        parse(measured.encode(), CTX)


def test_pos_list_order_follows_srs() -> None:
    loc = "<gmlLineString srsDimension='2'><posList>34.70 113.60 34.80 113.70</posList></gmlLineString>" + ROAD_G30
    (lat_first,) = parse(v2(record(location=loc)), CTX).records
    assert lat_first.geometry is not None and lat_first.geometry.coordinates == [[113.6, 34.7], [113.7, 34.8]]
    crs84 = loc.replace("srsDimension='2'", "srsName='urn:ogc:def:crs:OGC:1.3:CRS84'").replace(
        "34.70 113.60 34.80 113.70", "113.60 34.70 113.70 34.80"
    )
    (lon_first,) = parse(v2(record(location=crs84)), CTX).records
    assert lon_first.geometry == lat_first.geometry


@pytest.mark.parametrize(
    ("pos_list", "reason"),
    [
        ("34.70 113.60 34.80", "posList has 3 numbers, not a multiple of 2"),
        ("34.70 113.60 north 113.70", "posList 'north' is not a number"),
    ],
)
def test_bad_pos_list_rejects_the_record(pos_list: str, reason: str) -> None:
    loc = f"<gmlLineString><posList>{pos_list}</posList></gmlLineString>"
    parsed = parse(v2(record("BAD", location=loc), record("OK")), CTX)
    assert [r.source_id for r in parsed.records] == ["OK"]
    assert [(r.where, r.reason) for r in parsed.rejected] == [("situationRecord id=BAD", reason)]


# --------------------------------------------------------------------------- mapping tables
@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("Accident", "", EventType.ACCIDENT),
        ("ConstructionWorks", "", EventType.CONSTRUCTION),
        ("Roadworks", "", EventType.CONSTRUCTION),
        (
            "RoadOrCarriagewayOrLaneManagement",
            "<roadOrCarriagewayOrLaneManagementType>allCarriagewaysClosed</roadOrCarriagewayOrLaneManagementType>",
            EventType.CLOSURE,
        ),
        (
            "RoadOrCarriagewayOrLaneManagement",
            "<roadOrCarriagewayOrLaneManagementType>laneClosures</roadOrCarriagewayOrLaneManagementType>",
            EventType.CONTROL,
        ),
        ("ReroutingManagement", "", EventType.CONTROL),
        ("GeneralNetworkManagement", "", EventType.CONTROL),
        ("AbnormalTraffic", "", EventType.CONGESTION),
        ("WeatherRelatedRoadConditions", "", EventType.WEATHER),
        ("VehicleObstruction", "", EventType.HAZARD),
        ("AnimalPresenceObstruction", "", EventType.HAZARD),
        ("InfrastructureDamageObstruction", "", EventType.HAZARD),
        ("NonWeatherRelatedRoadConditions", "", EventType.HAZARD),
        ("TransitInformation", "", EventType.OTHER),
    ],
)
def test_type_mapping(kind: str, extra: str, expected: EventType) -> None:
    (event,) = parse(v2(record(kind=kind, extra=extra, location=ROAD_G30)), CTX).records
    assert event.type is expected
    assert event.description  # composed, never empty
    if expected is EventType.OTHER:
        assert event.description == f"G30 交通事件（DATEX II 类型：{kind}）"


def test_weather_sub_type_names_the_description() -> None:
    extra = "<weatherRelatedRoadConditionType>ice</weatherRelatedRoadConditionType>"
    (event,) = parse(v2(record(kind="WeatherRelatedRoadConditions", extra=extra, location=ROAD_G30)), CTX).records
    assert event.description == "G30 道路结冰"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("lowest", Severity.MINOR),
        ("low", Severity.MINOR),
        ("medium", Severity.MODERATE),
        ("high", Severity.MAJOR),
        ("highest", Severity.SEVERE),
        ("unknown", Severity.UNKNOWN),
        (None, Severity.UNKNOWN),
    ],
)
def test_severity_mapping(value: str | None, expected: Severity) -> None:
    (event,) = parse(v2(record(severity=value)), CTX).records
    assert event.severity is expected


def test_record_severity_wins_over_overall_severity() -> None:
    (event,) = parse(v2(record(severity="low"), overall="<overallSeverity>highest</overallSeverity>"), CTX).records
    assert event.severity is Severity.MINOR


SPAN = (
    "<validityTimeSpecification><overallStartTime>{}</overallStartTime>"
    "<overallEndTime>{}</overallEndTime></validityTimeSpecification>"
)


@pytest.mark.parametrize(
    ("status", "start", "end", "expected"),
    [
        ("active", "2026-01-20T00:00:00+08:00", "2026-01-21T00:00:00+08:00", EventStatus.ACTIVE),
        ("suspended", "2026-01-15T00:00:00+08:00", "2026-01-21T00:00:00+08:00", EventStatus.CLEARED),
        ("planned", "2026-01-20T00:00:00+08:00", "2026-01-21T00:00:00+08:00", EventStatus.PLANNED),
        ("definedByValidityTimeSpec", "2026-01-15T09:30:00+08:00", "2026-01-21T00:00:00+08:00", EventStatus.PLANNED),
        ("definedByValidityTimeSpec", "2026-01-14T00:00:00+08:00", "2026-01-15T08:59:00+08:00", EventStatus.CLEARED),
        ("definedByValidityTimeSpec", "2026-01-14T00:00:00+08:00", "2026-01-15T09:01:00+08:00", EventStatus.ACTIVE),
    ],
)
def test_status(status: str, start: str, end: str, expected: EventStatus) -> None:
    validity = f"<validityStatus>{status}</validityStatus>" + SPAN.format(start, end)
    (event,) = parse(v2(record(validity=validity)), CTX).records
    assert event.status is expected
    assert event.start_time == datetime.fromisoformat(start).astimezone(UTC)


def test_road_number_that_is_no_code_goes_to_location_text() -> None:
    loc = (
        "<linearWithinLinearElement><linearElement><roadNumber>郑州绕城高速</roadNumber></linearElement>"
        "</linearWithinLinearElement>"
    )
    (event,) = parse(v2(record(location=loc)), CTX).records
    assert (event.road, event.location_text) == (None, "郑州绕城高速")
    assert event.description == "郑州绕城高速 交通事故"


def test_first_comment_when_none_is_chinese() -> None:
    comment = '<value lang="en">Crash near Xuchang</value><value lang="fr">Accident</value>'
    (event,) = parse(v2(record(comment=comment)), CTX).records
    assert event.description == "Crash near Xuchang"


def test_location_for_display_when_nothing_better() -> None:
    loc = "<locationForDisplay><latitude>34.0</latitude><longitude>113.8</longitude></locationForDisplay>"
    (event,) = parse(v2(record(location=loc)), CTX).records
    assert event.geometry is not None and event.geometry.coordinates == [113.8, 34.0]


# --------------------------------------------------------------------------- rejected records
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (record("BAD", severity="catastrophic"), "severity 'catastrophic' is not a DATEX II severity"),
        (record("BAD", location=point("95", "113.6")), "latitude 95.0 is outside [-90, 90]"),
        (record("BAD", version_time=None, created=None), "situationRecordVersionTime and situationRecordCreationTime"),
        (
            record("BAD", version_time="2026-01-15T08:20:00"),
            "situationRecordVersionTime '2026-01-15T08:20:00' has no time zone",
        ),
        (record("BAD", validity="<validityStatus>maybe</validityStatus>"), "validityStatus 'maybe'"),
        (record("BAD", location=point("34.7", "east")), "longitude 'east' is not a number"),
        (record("BAD", extra="<temporarySpeedLimit>0</temporarySpeedLimit>"), "reduced_speed_kmh"),
    ],
)
def test_bad_record_is_rejected_and_the_others_kept(bad: str, reason: str) -> None:
    parsed = parse(v2(record("GOOD-1"), bad, record("GOOD-2")), CTX)
    assert [r.source_id for r in parsed.records] == ["GOOD-1", "GOOD-2"]
    (rejected,) = parsed.rejected
    assert rejected.where == "situationRecord id=BAD"
    assert reason in rejected.reason


def test_time_without_zone_is_read_in_the_source_zone() -> None:
    ctx = ParseContext(source="hngs", zone=ZoneInfo("Asia/Shanghai"), received_at=NOW)
    (event,) = parse(v2(record(version_time="2026-01-15T08:20:00")), ctx).records
    assert event.updated_at == datetime(2026, 1, 15, 0, 20, tzinfo=UTC)


def test_missing_and_duplicate_ids() -> None:
    parsed = parse(v2(record("A"), record(""), record("A")), CTX)
    assert [r.source_id for r in parsed.records] == ["A"]
    assert [(r.where, r.reason) for r in parsed.rejected] == [
        ("situationRecord #2", "the record has no id"),
        ("situationRecord id=A", "a record with this id came earlier in the document"),
    ]


# --------------------------------------------------------------------------- refused documents
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<d2LogicalModel xmlns="http://datex2.eu/schema/2/2_0">&lol3;</d2LogicalModel>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d2LogicalModel [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<d2LogicalModel xmlns="http://datex2.eu/schema/2/2_0">&xxe;</d2LogicalModel>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE])
def test_entities_are_refused(data: bytes) -> None:
    with pytest.raises(FeedError, match="DTD or entities"):
        parse(data, CTX)


def test_entities_hidden_in_utf16_are_refused() -> None:
    data = BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(FeedError):
        parse(data, CTX)


def test_truncated_document_is_refused() -> None:
    data = fixture("v2_snapshot.xml")
    with pytest.raises(FeedError, match="not well-formed XML") as err:
        parse(data[: len(data) // 2], CTX)
    assert err.value.where is not None and err.value.where.startswith("line ")


@pytest.mark.parametrize(
    "data",
    [
        b'<d2LogicalModel xmlns="http://datex2.eu/schema/1_0"/>',
        b'<payload xmlns="http://example.com/schema/3/d2Payload"/>',
        b"<d2LogicalModel/>",
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>',
    ],
)
def test_wrong_root_or_namespace_is_refused(data: bytes) -> None:
    with pytest.raises(FeedError, match="is not a DATEX II v2 d2LogicalModel"):
        parse(data, CTX)


def test_other_publication_type_is_refused() -> None:
    with pytest.raises(FeedError, match="publication type MeasuredDataPublication is not supported"):
        parse(v2(publication="MeasuredDataPublication"), CTX)


def test_document_without_payload_is_refused() -> None:
    with pytest.raises(FeedError, match="no payload publication"):
        parse(f'<d2LogicalModel xmlns="{V2}"><exchange/></d2LogicalModel>'.encode(), CTX)


def test_gbk_declared_is_read() -> None:
    text = v2(record(comment='<value lang="zh">G4京港澳高速许昌段发生事故</value>')).decode()
    data = text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    (event,) = parse(data, CTX).records
    assert event.description == "G4京港澳高速许昌段发生事故"


def test_gbk_mislabelled_as_utf8_is_refused() -> None:
    data = v2(record(comment='<value lang="zh">郑州至洛阳段封闭</value>')).decode().encode("gbk")
    with pytest.raises(FeedError, match="looks GBK-encoded"):
        parse(data, CTX)


# --------------------------------------------------------------------------- properties
FIXTURE_BYTES = [fixture(n) for n in ("v2_snapshot.xml", "v3_payload.xml", "v3_container.xml", "v2_delta.xml")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIXTURE_BYTES),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(min_size=0, max_size=8)), min_size=1, max_size=4),
)
def test_mutated_fixtures_raise_only_feed_error(data: bytes, edits: list[tuple[int, bytes]]) -> None:
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data = data[:at] + replacement + data[at + len(replacement) :]
    try:
        parsed = parse(data, CTX)
    except FeedError:
        return
    for event in parsed.records:
        assert isinstance(event, RoadEvent) and event.description
    assert parse(data, CTX) == parsed  # deterministic


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_feed_error(data: bytes) -> None:
    with contextlib.suppress(FeedError):
        parse(data, CTX)


TEXT_NODE = re.compile(rb">([^<>]+)<")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURE_BYTES), st.data())
def test_any_element_text_raises_only_feed_error_or_rejects(data: bytes, draw: st.DataObject) -> None:
    texts = list(TEXT_NODE.finditer(data))
    chosen = draw.draw(st.sets(st.integers(min_value=0, max_value=len(texts) - 1), min_size=1, max_size=3))
    for index in sorted(chosen, reverse=True):  # from the end, so earlier offsets stay valid
        match = texts[index]
        value = draw.draw(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12))
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").encode()
        data = data[: match.start(1)] + escaped + data[match.end(1) :]
    try:
        parsed = parse(data, CTX)
    except FeedError:
        return
    assert len(parsed.records) + len(parsed.rejected) <= 4
    assert all(r.where.startswith("situationRecord") for r in parsed.rejected)


def synthetic_snapshot(n: int) -> bytes:
    """A v2 snapshot of ``n`` records cycling through the fixture's kinds (for the fast-path checks)."""
    kinds = [("Accident", point("34.7468", "112.9855")), ("MaintenanceWorks", ""), ("AbnormalTraffic", ROAD_G30)]
    records = [
        record(f"HN-{i:05d}", kind=kinds[i % 3][0], severity="medium", location=kinds[i % 3][1]) for i in range(n)
    ]
    return v2(*records)


def test_fast_reader_agrees_with_the_hardened_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.base

    class Refusing:
        def feed(self, data: bytes) -> None:
            raise ParseError("forced onto the defusedxml path")

    for data in [*FIXTURE_BYTES, synthetic_snapshot(300)]:
        fast = parse(data, CTX)
        with monkeypatch.context() as m:
            m.setattr(feeds.base, "XMLParser", Refusing)
            assert parse(data, CTX) == fast
    assert len(fast.records) == 300 and len({r.id for r in fast.records}) == 300


def test_alertc_method4_offsets_in_location_text() -> None:
    loc = (
        '<alertCPoint xsi:type="AlertCMethod4Point"><alertCLocationCountryCode>C</alertCLocationCountryCode>'
        "<alertCLocationTableNumber>41</alertCLocationTableNumber>"
        "<alertCDirection><alertCDirectionCoded>positive</alertCDirectionCoded></alertCDirection>"
        "<alertCMethod4PrimaryPointLocation><alertCLocation><specificLocation>20415</specificLocation>"
        "</alertCLocation><offsetDistance><offsetDistance>350</offsetDistance></offsetDistance>"
        "</alertCMethod4PrimaryPointLocation></alertCPoint>"
    )
    (event,) = parse(v2(record(location=loc)), CTX).records
    assert event.geometry is None
    assert event.location_text == "AlertC 位置表 41 主位置码 20415（偏移 350 米） 正向"
    assert event.direction is Direction.UNKNOWN  # AlertC directions follow the table, not the stakes


def test_deeply_nested_groups_do_not_overflow() -> None:
    depth = 5000
    validity = "<validity>" * depth + "<validityStatus>suspended</validityStatus>" + "</validity>" * depth
    (event,) = parse(v2(record(validity=validity)), CTX).records
    assert event.status is EventStatus.CLEARED


def test_road_name_element_wins_over_words_after_the_code() -> None:
    element = "<linearElement><roadNumber>G4京港澳</roadNumber><roadName>京港澳高速</roadName></linearElement>"
    (named,) = parse(
        v2(record(location=f"<linearWithinLinearElement>{element}</linearWithinLinearElement>")), CTX
    ).records
    assert (named.road, named.road_name) == ("G4", "京港澳高速")
    element = "<linearElement><roadNumber>G4 京港澳高速</roadNumber></linearElement>"
    (words,) = parse(
        v2(record(location=f"<linearWithinLinearElement>{element}</linearWithinLinearElement>")), CTX
    ).records
    assert (words.road, words.road_name, words.description) == ("G4", "京港澳高速", "G4 京港澳高速 交通事故")
