from __future__ import annotations

import codecs
import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pyproj import Geod

from feeds.base import FeedError, ParseContext, Parsed
from feeds.cap import parse
from travel.core.geometry import Geometry
from travel.core.records import (
    AlertCertainty,
    AlertMsgType,
    AlertSeverity,
    AlertUrgency,
    WarningColour,
)

FIXTURES = Path(__file__).parent / "fixtures" / "cap"
CTX = ParseContext(source="hnqx")
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str) -> Parsed:
    return parse(fixture(name), CTX)


AREA = """<area><areaDesc>郑州市区</areaDesc>
  <polygon>34.95,113.45 34.95,114.15 34.35,114.15 34.35,113.45 34.95,113.45</polygon>
  <geocode><valueName>GB/T2260</valueName><value>410100</value></geocode></area>"""


def info(
    *,
    event: str = "大雾",
    severity: str | None = "Moderate",
    extra: str = "",
    area: str = AREA,
    language: str | None = "zh-CN",
) -> str:
    lang = f"<language>{language}</language>" if language else ""
    sev = f"<severity>{severity}</severity>" if severity else ""
    return (
        f"<info>{lang}<category>Met</category><event>{event}</event><urgency>Expected</urgency>{sev}"
        f"<certainty>Likely</certainty>{extra}<headline>郑州市气象台发布{event}预警</headline>"
        f"<description>郑州市区将出现能见度小于500米的雾。</description>{area}</info>"
    )


def alert(
    *,
    identifier: str = "41010041600000_20260112063000",
    sent: str = "2026-01-12T06:30:00+08:00",
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    extra: str = "",
    infos: str | None = None,
    ns: str = CAP12,
    declaration: bool = True,
) -> str:
    body = (
        f'<alert xmlns="{ns}"><identifier>{identifier}</identifier><sender>郑州市气象台</sender>'
        f"<sent>{sent}</sent><status>{status}</status><msgType>{msg_type}</msgType><scope>{scope}</scope>"
        f"{extra}{info() if infos is None else infos}</alert>"
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else "") + body


def parse_text(text: str, ctx: ParseContext = CTX) -> Parsed:
    return parse(text.encode(), ctx)


def only_rejection(text: str) -> str:
    parsed = parse_text(text)
    assert parsed.records == []
    assert len(parsed.rejected) == 1
    return str(parsed.rejected[0])


def atom(*entries: str) -> str:
    body = "".join(f"<entry><id>e{n}</id>{e}</entry>" for n, e in enumerate(entries, 1))
    return f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'


# --------------------------------------------------------------------------- fixtures
def test_fog_yellow_alert_fields() -> None:
    parsed = parse_fixture("zhengzhou_fog_yellow.xml")
    assert parsed.rejected == []
    assert parsed.snapshot is False
    [a] = parsed.records
    assert a.id == "hnqx:41010041600000_20260112063000"
    assert a.source == "hnqx"
    assert a.source_id == a.identifier == "41010041600000_20260112063000"
    assert a.sender == "郑州市气象台"
    assert a.sent == datetime(2026, 1, 11, 22, 30, tzinfo=UTC)
    assert a.updated_at == a.sent
    assert a.version == int(a.sent.timestamp() * 1000)
    assert a.msg_type is AlertMsgType.ALERT
    assert a.event == "大雾"
    assert a.colour is WarningColour.YELLOW
    assert a.severity is AlertSeverity.MODERATE
    assert a.urgency is AlertUrgency.EXPECTED
    assert a.certainty is AlertCertainty.LIKELY
    assert a.language == "zh-CN"
    assert a.headline == "郑州市气象台发布大雾黄色预警"
    assert a.description.startswith("郑州市气象台2026年1月12日6时30分发布大雾黄色预警信号")
    assert "减速慢行" in a.instruction
    assert a.effective == a.onset == datetime(2026, 1, 11, 22, 30, tzinfo=UTC)
    assert a.expires == datetime(2026, 1, 12, 4, 0, tzinfo=UTC)
    assert a.references == []
    assert a.cancelled is False
    assert a.active
    [en] = a.translations
    assert (en.language, en.event) == ("en-US", "Heavy Fog")
    assert en.headline.startswith("Zhengzhou Meteorological Observatory")
    [area] = a.areas
    assert area.area_desc == "郑州市区及中牟县、新郑市"
    assert area.admin_codes == ["410100"]  # the SAME geocode is ignored
    assert area.geometry.type == "Polygon"
    assert area.geometry.coordinates == [
        [[113.45, 34.95], [114.15, 34.95], [114.15, 34.35], [113.45, 34.35], [113.45, 34.95]]
    ]


def test_geometry_passes_the_models_own_validation() -> None:
    for path in sorted(FIXTURES.glob("*.xml")):
        for record in parse(path.read_bytes(), CTX).records:
            for area in record.areas:
                if area.geometry is not None:
                    again = Geometry.model_validate(area.geometry.model_dump())
                    assert again.shape.equals(area.geometry.shape)


@pytest.mark.parametrize(
    ("kind", "coordinates", "reason"),
    [
        ("Polygon", [[[113.4, 34.9], [114.1, 34.9], [114.1, 34.5]]], "a polygon ring has 3 positions"),
        ("Polygon", [[[113.4, 34.9], [114.1, 34.9], [114.1, 34.5], [113.4, 34.5]]], "a polygon ring is not closed"),
        ("MultiPolygon", [[[[113.4, 34.9], [114.1, 34.9], [114.1, 34.5], [113.4, 34.6]]]], "is not closed"),
        ("Polygon", [[["113.4", "34.9"], ["114.1", "34.9"], ["114.1", "34.5"], ["113.4", "34.9"]]], "numbers"),
        ("Point", ["113.4", "34.9"], "numbers"),
    ],
)
def test_the_model_refuses_open_or_short_rings_and_coordinates_that_are_not_numbers(
    kind: str, coordinates: list[object], reason: str
) -> None:
    # CAP closes a polygon and reads numbers before the model sees them; the model itself must not
    # take an open ring (shapely would close it silently, the record keeping it open) nor strings.
    with pytest.raises(ValidationError, match=reason):
        Geometry(type=kind, coordinates=coordinates)


def test_update_prefers_zh_info_and_takes_colour_from_the_upgrade_headline() -> None:
    [a] = parse_fixture("zhengzhou_fog_orange_update.xml").records
    assert a.msg_type is AlertMsgType.UPDATE
    assert a.references == ["郑州市气象台,41010041600000_20260112063000,2026-01-12T06:30:00+08:00"]
    assert a.language == "zh-CN"  # the zh info is second, still primary
    assert a.event == "大雾"
    assert a.colour is WarningColour.ORANGE  # 由黄色升级为橙色: the last colour named
    assert a.severity is AlertSeverity.SEVERE  # Unknown in the info: from the colour
    assert a.urgency is AlertUrgency.IMMEDIATE
    assert [t.language for t in a.translations] == ["en-US"]
    [area] = a.areas
    assert area.admin_codes == ["410100", "410122"]
    ring = area.geometry.coordinates[0]
    assert len(ring) == 5 and ring[0] == ring[-1] == [113.45, 34.95]  # unclosed ring closed


def test_cancel_without_info() -> None:
    parsed = parse_fixture("zhengzhou_fog_cancel.xml")
    [a] = parsed.records
    assert a.msg_type is AlertMsgType.CANCEL
    assert a.event == "解除"
    assert a.areas == [] and a.translations == []
    assert a.references == [
        "郑州市气象台,41010041600000_20260112063000,2026-01-12T06:30:00+08:00",
        "郑州市气象台,41010041600000_20260112081500,2026-01-12T08:15:00+08:00",
    ]
    assert a.cancelled is False
    assert not a.active


def test_road_icing_circle_is_a_geodesic_polygon_and_given_severity_wins() -> None:
    [a] = parse_fixture("xuchang_road_icing_circle.xml").records
    assert a.event == "道路结冰"
    assert a.colour is WarningColour.YELLOW  # eventCode 11B21-3
    assert a.severity is AlertSeverity.SEVERE  # given Severe kept although yellow means Moderate
    assert a.effective == a.onset == datetime(2026, 2, 3, 9, 10, tzinfo=UTC)  # no <onset>: from <effective>
    [area] = a.areas
    assert area.admin_codes == ["411000"]
    ring = area.geometry.coordinates[0]
    assert len(ring) == 65 and ring[0] == ring[-1]
    geod = Geod(ellps="WGS84")
    for lon, lat in ring:
        _, _, dist = geod.inv(113.85, 34.03, lon, lat)
        assert dist == pytest.approx(15_000, abs=0.1)


def test_blizzard_two_areas_and_a_multipolygon() -> None:
    [a] = parse_fixture("zhoukou_blizzard_two_areas.xml").records
    assert a.event == "暴雪"
    assert a.colour is WarningColour.ORANGE  # parameter color=Orange
    assert a.severity is AlertSeverity.SEVERE  # absent: from the colour
    first, second = a.areas
    assert (first.area_desc, first.admin_codes, first.geometry.type) == ("周口市区", ["411600"], "Polygon")
    assert second.admin_codes == ["411623", "411603"]
    assert second.geometry.type == "MultiPolygon"
    assert len(second.geometry.coordinates) == 2
    assert second.geometry.coordinates[1][0][0] == [114.8, 33.8]


def test_overlapping_shapes_in_one_area_are_merged() -> None:
    area = """<area><areaDesc>许昌市区</areaDesc><circle>34.03,113.85 10</circle>
      <circle>34.05,113.90 10</circle></area>"""
    [a] = parse_text(alert(infos=info(area=area))).records
    geometry = a.areas[0].geometry
    assert geometry.type == "Polygon"
    assert geometry.shape.is_valid
    assert geometry.shape.contains(Geometry.point(113.85, 34.03).shape)
    assert geometry.shape.contains(Geometry.point(113.90, 34.05).shape)


def test_atom_feed_of_three_alerts() -> None:
    parsed = parse_fixture("henan_atom_feed.xml")
    assert parsed.rejected == []
    got = [(a.source_id, a.event, a.colour, a.severity) for a in parsed.records]
    assert got == [
        ("41030041600000_20260318090000", "大风", WarningColour.BLUE, AlertSeverity.MINOR),
        ("41110041600000_20260318093000", "暴雨", WarningColour.RED, AlertSeverity.EXTREME),
        ("41010041600000_20260318100000", "霾", WarningColour.ORANGE, AlertSeverity.SEVERE),
    ]
    assert parsed.records[1].areas[0].admin_codes == ["411100"]
    assert parsed.records[2].areas[0].geometry is None


def test_rss_item_embedding_an_alert_directly() -> None:
    item = f"<item><title>郑州市气象台发布大雾预警</title>{alert(declaration=False)}</item>"
    doc = f'<rss version="2.0"><channel><title>河南预警</title>{item}</channel></rss>'
    [a] = parse_text(doc).records
    assert a.event == "大雾"


def test_cap_1_1_without_language_is_en_us() -> None:
    [a] = parse_fixture("pingdingshan_lightning_cap11.xml").records
    assert a.language == "en-US"
    assert a.event == "雷电"  # 雷电黄色预警信号 → the bare event
    assert a.colour is WarningColour.YELLOW
    assert a.severity is AlertSeverity.MODERATE
    assert a.areas[0].admin_codes == ["410400"]  # valueName "GB/T 2260"


@pytest.mark.parametrize(
    ("extra", "event", "colour"),
    [
        ("<parameter><valueName>alert_color</valueName><value>红色</value></parameter>", "大雾", "red"),
        ("<parameter><valueName>预警颜色</valueName><value>Blue</value></parameter>", "大雾", "blue"),
        ("<eventCode><valueName>CN-WARNING-TYPE</valueName><value>11B042</value></eventCode>", "暴雪", "orange"),
        ("<eventCode><valueName>SAME</valueName><value>FGW</value></eventCode>", "大雾", "yellow"),
    ],
)
def test_signal_sources(extra: str, event: str, colour: str) -> None:
    # the headline says 大雾…预警 without colour; event text is 大雾黄色预警
    [a] = parse_text(alert(infos=info(event="大雾黄色预警", severity=None, extra=extra))).records
    assert (a.event, a.colour) == (event, WarningColour(colour))


def test_unrecognised_event_is_kept_as_given() -> None:
    [a] = parse_text(alert(infos=info(event="森林火险", severity="Minor"))).records
    assert (a.event, a.colour, a.severity) == ("森林火险", None, AlertSeverity.MINOR)


def test_times_without_zone_need_the_source_zone() -> None:
    text = alert(sent="2026-01-12T06:30:00")
    assert only_rejection(text) == (
        "alert 41010041600000_20260112063000: sent '2026-01-12T06:30:00' has no time zone and the source declares none"
    )
    [a] = parse_text(text, ParseContext(source="hnqx", zone=ZoneInfo("Asia/Shanghai"))).records
    assert a.sent == datetime(2026, 1, 11, 22, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- rejected items
@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"status": "Test"}, "status Test is not published"),
        ({"status": "Exercise"}, "status Exercise is not published"),
        ({"msg_type": "Ack"}, "msgType Ack is not published (acknowledgements and errors carry no alert)"),
        ({"msg_type": "Error"}, "msgType Error is not published (acknowledgements and errors carry no alert)"),
        ({"msg_type": "Warning"}, "unknown msgType 'Warning'"),
        ({"scope": "Restricted"}, "scope Restricted is not published"),
        ({"infos": ""}, "Alert message has no <info>"),
        ({"infos": info(severity="Catastrophic")}, "unknown severity 'Catastrophic'"),
        ({"extra": "<references>郑州市气象台</references>"}, "reference '郑州市气象台' is not sender,identifier,sent"),
        (
            {"infos": info(extra="<parameter><valueName>预警颜色</valueName><value>紫色</value></parameter>")},
            "parameter 预警颜色 value '紫色' is not a warning colour",
        ),
        ({"infos": info().replace("<event>大雾</event>", "")}, "info 1: <event> is missing"),
    ],
)
def test_rejected_messages(kwargs: dict[str, str], reason: str) -> None:
    assert only_rejection(alert(**kwargs)) == f"alert 41010041600000_20260112063000: {reason}"


def area_with(shape: str, codes: str = "") -> str:
    return f"<area><areaDesc>中牟县</areaDesc>{shape}{codes}</area>"


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        (
            area_with("<polygon>34.7,113.6 34.8,113.7 34.8</polygon>"),
            "polygon has an odd number of values (5); expected lat,lon pairs",
        ),
        (
            area_with("<polygon>113.6,34.7 113.7,34.8 113.7,34.6 113.6,34.7</polygon>"),
            "polygon latitude 113.6 is outside [-90, 90] (CAP writes lat,lon)",
        ),
        (
            area_with("<polygon>34.7,113.6 34.8,113.7</polygon>"),
            "polygon has 3 positions; a ring needs at least 4 (3 distinct, closed)",
        ),
        (area_with("<polygon>34.7,113.6 34.8,abc 34.6,113.7</polygon>"), "polygon has a value that is not a number"),
        (area_with("<polygon>34.7,113.6 34.8,nan 34.6,113.7</polygon>"), "polygon has a non-finite coordinate"),
        (area_with("<circle>34.7,113.6 0</circle>"), "circle radius 0 km is not a positive distance"),
        (area_with("<circle>34.7 113.6 5</circle>"), "circle '34.7 113.6 5' is not 'lat,lon radius_km'"),
        (area_with("<circle>34.7,179.99 100</circle>"), "circle crosses the antimeridian or a pole"),
        (area_with("<circle>95,113.6 5</circle>"), "circle centre latitude 95.0 is outside [-90, 90]"),
        (area_with("<circle>89.9,113.6 100</circle>"), "circle crosses the antimeridian or a pole"),
        (
            area_with("<polygon>34.7,113.6 34.8,113.7</polygon><circle>34.7,113.6 5</circle>"),
            "polygon has 3 positions; a ring needs at least 4 (3 distinct, closed)",
        ),
        (
            area_with("<polygon>34.0,113.0 34.0,113.0 34.0,113.0 34.0,113.0</polygon>"),
            "geometry: Value error, invalid Polygon: Too few points",
        ),
        (
            area_with("", "<geocode><valueName>行政区划代码</valueName><value>4101</value></geocode>"),
            "geocode 行政区划代码 value '4101' is not a 6-digit GB/T 2260 code",
        ),
    ],
)
def test_rejected_areas(area: str, reason: str) -> None:
    got = only_rejection(alert(infos=info(area=area)))
    assert got.startswith(f"alert 41010041600000_20260112063000: area 1 (中牟县): {reason}"), got


def test_self_intersecting_ring_is_refused_naming_the_area() -> None:
    bowtie = area_with("<polygon>34.7,113.6 34.9,113.8 34.9,113.6 34.7,113.8 34.7,113.6</polygon>")
    got = only_rejection(alert(infos=info(area=bowtie)))
    assert got.startswith(
        "alert 41010041600000_20260112063000: area 1 (中牟县): geometry: Value error, invalid Polygon"
    )
    assert "Self-intersection" in got


def test_an_invalid_shape_in_a_later_area_names_that_area() -> None:
    # The record is validated in one call: the model's error must still name the area it is about.
    bowtie = "<polygon>34.7,113.6 34.9,113.8 34.9,113.6 34.7,113.8 34.7,113.6</polygon>"
    areas = AREA + f"<area><areaDesc>中牟县</areaDesc>{bowtie}</area>"
    got = only_rejection(alert(infos=info(area=areas)))
    assert got.startswith("alert 41010041600000_20260112063000: area 2 (中牟县): geometry: Value error"), got
    assert "invalid Polygon: Self-intersection" in got


def test_comments_and_processing_instructions_inside_an_alert_are_ignored() -> None:
    text = alert(extra="<!-- 测试 --><?xml-stylesheet href='cap.xsl'?>").replace(
        "<event>", "<!-- event follows --><event>"
    )
    [a] = parse_text(text).records
    assert (a.event, a.severity, a.areas[0].admin_codes) == ("大雾", AlertSeverity.MODERATE, ["410100"])


def test_self_intersecting_ring_among_several_shapes() -> None:
    shapes = "<polygon>34.7,113.6 34.9,113.8 34.9,113.6 34.7,113.8 34.7,113.6</polygon><circle>34.7,113.6 5</circle>"
    got = only_rejection(alert(infos=info(area=area_with(shapes))))
    assert "area 1 (中牟县): invalid Polygon: Self-intersection" in got


def test_area_without_description() -> None:
    area = "<area><circle>34.7,113.6 5</circle></area>"
    assert only_rejection(alert(infos=info(area=area))).endswith("area 1: <areaDesc> is missing")


def test_other_geocodes_are_ignored_and_codes_deduplicated() -> None:
    codes = (
        "<geocode><valueName>ADCODE</valueName><value>411600</value></geocode>"
        "<geocode><valueName>admin_code</valueName><value>411600</value></geocode>"
        "<geocode><valueName>EMMA_ID</valueName><value>CN041</value></geocode>"
    )
    [a] = parse_text(alert(infos=info(area=area_with("", codes)))).records
    assert a.areas[0].admin_codes == ["411600"]
    assert a.areas[0].geometry is None


def test_one_bad_alert_does_not_hide_the_others_in_a_feed() -> None:
    good = f"<content type='application/cap+xml'>{alert(declaration=False)}</content>"
    test = f"<content>{alert(identifier='T-1', status='Test', declaration=False)}</content>"
    linked = "<link rel='alternate' href='https://example.invalid/a.xml'/>"
    foreign = alert(identifier="F-1", ns="urn:oasis:names:tc:emergency:cap:1.0", declaration=False)
    dup = alert(declaration=False)
    parsed = parse_text(atom(good, test, linked, foreign, dup))
    assert [a.source_id for a in parsed.records] == ["41010041600000_20260112063000"]
    assert [str(r) for r in parsed.rejected] == [
        "entry 2 (alert T-1): status Test is not published",
        "entry 3: no embedded CAP <alert> (linked alerts are not fetched)",
        "entry 4 (alert F-1): <alert> in namespace 'urn:oasis:names:tc:emergency:cap:1.0' is not CAP 1.1 or 1.2",
        "entry 5 (alert 41010041600000_20260112063000): identifier repeats an earlier alert of this document; "
        "the first is kept",
    ]


# --------------------------------------------------------------------------- refused documents
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "refused: the document declares a DTD or entities"),
        (XXE, "refused: the document declares a DTD or entities"),
        (fixture("zhengzhou_fog_yellow.xml")[:700], "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b'<?xml version="1.0"?><html><body/></html>', "root element <html> is not a CAP <alert>"),
        (alert(ns="urn:oasis:names:tc:emergency:cap:1.0").encode(), "root element <alert> is in namespace"),
        (alert().encode("gbk"), "bytes at offset"),
        (alert().replace("UTF-8", "ATF-8").encode(), "unknown or unsupported character encoding 'ATF-8'"),
        (alert().replace("UTF-8", "Shift_JIS").encode(), "unknown or unsupported character encoding 'Shift_JIS'"),
    ],
)
def test_refused_documents(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as err:
        parse(data, CTX)
    assert err.value.reason.startswith(reason), err.value.reason


def test_gbk_bytes_declared_utf8_are_refused_with_a_hint() -> None:
    with pytest.raises(FeedError, match="looks GBK-encoded"):
        parse(alert().encode("gbk"), CTX)


def test_gbk_declared_gbk_is_accepted() -> None:
    [a] = parse(alert().replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"), CTX).records
    assert a.sender == "郑州市气象台"
    assert a.areas[0].area_desc == "郑州市区"


def test_the_transport_charset_reads_a_document_that_declares_none() -> None:
    data = alert(declaration=False).encode("gbk")
    [a] = parse(data, ParseContext(source="hnqx", charset="GBK")).records
    assert a.sender == "郑州市气象台" and a.areas[0].area_desc == "郑州市区"
    with pytest.raises(FeedError, match="looks GBK-encoded"):
        parse(data, CTX)  # no charset: XML reads UTF-8
    with pytest.raises(FeedError, match="unknown or unsupported character encoding 'x-klingon'"):
        parse(data, ParseContext(source="hnqx", charset="x-klingon"))


def test_a_declaration_or_byte_order_mark_wins_over_the_transport_charset() -> None:
    declared = alert().replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    assert parse(declared, ParseContext(source="hnqx", charset="ISO-8859-1")).records[0].sender == "郑州市气象台"
    bom = codecs.BOM_UTF8 + alert(declaration=False).encode()
    assert parse(bom, ParseContext(source="hnqx", charset="GBK")).records[0].sender == "郑州市气象台"


def test_wrong_root_names_the_element() -> None:
    with pytest.raises(FeedError) as err:
        parse(b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>', CTX)
    assert err.value.where == "<{http://schemas.xmlsoap.org/soap/envelope/}Envelope>"


# --------------------------------------------------------------------------- properties
ALL_FIXTURES = sorted(p.read_bytes() for p in FIXTURES.glob("*.xml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ALL_FIXTURES),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=8)), max_size=4),
)
def test_mutated_documents_parse_or_raise_feed_error(doc: bytes, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(doc)
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    try:
        first = parse(bytes(data), CTX)
    except FeedError:
        return
    again = parse(bytes(data), CTX)
    assert first.records == again.records
    assert first.rejected == again.rejected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.,- \n", max_size=60))
def test_arbitrary_polygon_text_is_a_record_or_a_named_rejection(polygon: str) -> None:
    parsed = parse_text(alert(infos=info(area=area_with(f"<polygon>{polygon}</polygon>"))))
    assert len(parsed.records) + len(parsed.rejected) == 1
    for r in parsed.rejected:
        assert r.reason.startswith("area 1 (中牟县): ")


def grid_rings(min_size: int, max_size: int) -> st.SearchStrategy[list[tuple[float, float]]]:
    """Rings on a coarse grid: crossings, repeated points and collinear edges are common; ±95, ±185 out of range."""
    lon = st.sampled_from([-185.0, 113.0, 113.5, 114.0, 114.5, 179.5, 185.0])
    lat = st.sampled_from([-95.0, 0.0, 0.5, 1.0, 1.5, 2.0, 89.5, 95.0])
    return st.lists(st.tuples(lon, lat), min_size=min_size, max_size=max_size)


def star_rings(min_size: int, max_size: int) -> st.SearchStrategy[list[tuple[float, float]]]:
    """Star-shaped rings around a centre (one vertex per angle): simple, so valid once closed."""
    return st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=min_size, max_size=max_size).map(
        lambda radii: [
            (round(113.5 + r * math.cos(2 * math.pi * i / len(radii)), 6),
             round(34.0 + r * math.sin(2 * math.pi * i / len(radii)), 6))
            for i, r in enumerate(radii)
        ]
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(grid_rings(3, 31), grid_rings(33, 40), star_rings(3, 31), star_rings(33, 80)), st.booleans())
def test_polygon_is_kept_exactly_when_shapely_finds_it_valid(ring: list[tuple[float, float]], close: bool) -> None:
    # Small rings and large ones (over 32 positions) take different fast paths in Geometry: both must
    # agree with shapely's own verdict on the closed ring, and keep the coordinates as given.
    if close:
        ring = [*ring, ring[0]]
    text = " ".join(f"{lat},{lon}" for lon, lat in ring)
    parsed = parse_text(alert(infos=info(area=area_with(f"<polygon>{text}</polygon>"))))
    closed = ring if ring[0] == ring[-1] else [*ring, ring[0]]
    in_range = all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in closed)
    if in_range and len(closed) >= 4 and shapely.Polygon(closed).is_valid:
        [a] = parsed.records
        geometry = a.areas[0].geometry
        assert geometry.coordinates == [[list(p) for p in closed]]
        assert geometry.shape.equals(shapely.Polygon(closed))
    else:
        [rejected] = parsed.rejected
        assert rejected.reason.startswith("area 1 (中牟县): "), rejected.reason
