"""The project's CSV feeds: toll stations, service-area status, gauge readings, toll rates."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import FORMATS
from feeds.base import FeedError, ParseContext, Parsed, version_of
from feeds.tabular import (
    parse_gauge_readings,
    parse_service_area_status,
    parse_toll_rates,
    parse_toll_stations,
)
from travel.core.records import Direction, Kind, OpenStatus, PoiKind

FIXTURES = Path(__file__).parent / "fixtures" / "tabular"
CTX = ParseContext(source="hngs")
SHANGHAI = ParseContext(source="hnsw", zone=ZoneInfo("Asia/Shanghai"))
TOLL_HEADER = "id,name,road,stake,direction,admin_code,lon,lat,open_status,status_note,updated_at\n"
RATE_HEADER = "id,toll_section,vehicle_class,fen_per_km,effective_from,effective_to,updated_at\n"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reasons(parsed: Parsed) -> list[str]:
    return [str(r) for r in parsed.rejected]


# --------------------------------------------------------------------------- toll stations
def test_toll_stations_are_a_snapshot_of_pois_with_stakes_in_metres() -> None:
    parsed = parse_toll_stations(fixture("toll_stations.csv"), CTX)
    assert parsed.snapshot and not parsed.rejected and len(parsed.records) == 5
    zzn = parsed.records[0]
    assert (zzn.id, zzn.source_id, zzn.poi_kind, zzn.name) == ("hngs:toll-G4-zhengzhounan", "toll-G4-zhengzhounan",
                                                             PoiKind.TOLL_STATION, "郑州南收费站")
    assert (zzn.road, zzn.stake_m, zzn.direction, zzn.admin_code) == ("G4", 695300.0, Direction.BOTH, "410100")
    assert zzn.geometry.model_dump()["coordinates"] == [113.781204, 34.662481]
    assert zzn.updated_at == datetime(2026, 1, 24, 0, 0, tzinfo=UTC)
    assert zzn.version == version_of(zzn.updated_at)
    assert parsed.records[1].stake_m == 745410.8  # plain metres
    xcb = parsed.records[2]
    assert (xcb.open_status, xcb.status_note) == (OpenStatus.PARTIAL, "入口往郑州方向临时关闭")
    assert parsed.records[4].open_status is OpenStatus.CLOSED  # 暂停营业


def test_gbk_export_needs_the_declared_charset() -> None:
    with pytest.raises(FeedError, match="GBK"):
        parse_toll_stations(fixture("toll_stations_gbk.csv"), CTX)
    parsed = parse_toll_stations(fixture("toll_stations_gbk.csv"), ParseContext(source="hngs", charset="GBK"))
    assert parsed.records == parse_toll_stations(fixture("toll_stations.csv"), CTX).records


def test_bad_cells_are_rejected_by_line_and_column_and_good_rows_kept() -> None:
    data = (TOLL_HEADER
            + "t1,郑州南收费站,G4,K695+300,双向,410100,113.78,34.66,营业,,2026-01-24T08:00:00+08:00\n"
            + "t2,新郑收费站,G4,K7x,双向,410100,113.74,34.40,营业,,2026-01-24T08:00:00+08:00\n"
            + "t3,许昌收费站,G4,K766+646,北向,411000,113.81,34.02,营业,,2026-01-24T08:00:00+08:00\n"
            + "t4,漯河收费站,G4,K819+220,双向,411100,,,营业,,2026-01-24T08:00:00+08:00\n"
            + "t5,临颍收费站,京港澳,K790+000,双向,411100,113.93,33.81,营业,,2026-01-24T08:00:00+08:00\n"
            + "t6,,G4,K800+000,双向,411100,113.93,33.81,营业,,2026-01-24T08:00:00+08:00\n"
            + "t7,西平收费站,G4,K860+000,双向,411700,113.93,33.81,休息,,2026-01-24T08:00:00+08:00\n").encode()
    parsed = parse_toll_stations(data, CTX)
    assert [r.source_id for r in parsed.records] == ["t1"]
    got = reasons(parsed)
    assert got[0].startswith("line 3: stake: 'K7x' is not a stake")
    assert got[1].startswith("line 4: direction: '北向' is not one of")
    assert got[2].startswith("line 5: lon/lat: Field required")
    assert got[3].startswith("line 6: road: String should match pattern")
    assert got[4] == "line 7: name: not given"
    assert got[5].startswith("line 8: open_status: '休息' is not one of")


def test_duplicate_id_is_rejected_naming_the_first_line() -> None:
    row = "t1,郑州南收费站,G4,K695+300,双向,410100,113.78,34.66,营业,,2026-01-24T08:00:00+08:00\n"
    parsed = parse_toll_stations((TOLL_HEADER + row + "\n" + row).encode(), CTX)
    assert len(parsed.records) == 1
    assert reasons(parsed) == ["line 4: id: duplicate 't1' (first used on line 2)"]


def test_time_without_zone_is_refused_unless_the_source_has_one() -> None:
    data = (TOLL_HEADER + "t1,郑州南收费站,G4,K695+300,双向,410100,113.78,34.66,营业,,2026-01-24 08:00:00\n").encode()
    parsed = parse_toll_stations(data, CTX)
    assert reasons(parsed) == ["line 2: updated_at: time '2026-01-24 08:00:00' has no time zone and the "
                               "source declares none"]
    [record] = parse_toll_stations(data, SHANGHAI).records
    assert record.updated_at == datetime(2026, 1, 24, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty document: expected a header row with the columns id, name, lon, lat, updated_at"),
    (b"\n\n", "empty document"),
    (b"id,name,lon,lat\nt1,x,113,34\n", "line 1: the header lacks the columns updated_at"),
    (b"id,lon\n", "lacks the columns name, lat, updated_at"),
    (b"id,name,lon,lat,updated_at,speed\n", "unknown column 'speed'"),
    (b"id,name,lon,lat,updated_at,name\n", "column 'name' repeats 'name'"),
])
def test_unusable_headers_refuse_the_document(data: bytes, words: str) -> None:
    with pytest.raises(FeedError) as err:
        parse_toll_stations(data, CTX)
    assert words in str(err.value)


def test_spreadsheet_padding_rows_and_note_columns_are_skipped() -> None:
    data = (TOLL_HEADER.rstrip("\n") + ",x_备注\n,,,,,,,,,,,\n"
            + "t1,郑州南收费站,G4,,,,113.78,34.66,,,2026-01-24T08:00:00Z,新站\n").encode()
    parsed = parse_toll_stations(data, CTX)
    assert not parsed.rejected and [r.open_status for r in parsed.records] == [OpenStatus.UNKNOWN]


# --------------------------------------------------------------------------- service-area status
def test_service_area_status_becomes_patches_of_the_bundled_pois() -> None:
    data = fixture("sa_status.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM
    parsed = parse_service_area_status(data, CTX)
    assert not parsed.snapshot and not parsed.records and not parsed.rejected
    xuchang, changge, luohe = parsed.patches
    assert (xuchang.kind, xuchang.id) == (Kind.POI, "geodata:sa-G4-xuchang")
    assert xuchang.fields == {"open_status": OpenStatus.CLOSED, "status_note": "加油站检修，暂停营业至18:00"}
    assert xuchang.updated_at == datetime(2026, 1, 24, 2, 0, tzinfo=UTC)
    assert changge.fields == {"open_status": OpenStatus.PARTIAL, "status_note": "0#柴油暂缺",
                              "facilities": {"fuel": ["92#", "95#"], "ev_charging": True}}
    assert luohe.fields["facilities"]["fuel"] == ["92#", "95#", "0#柴油"] and luohe.fields["status_note"] is None


def test_service_area_status_rejections() -> None:
    data = ("poi_id,open_status,status_note,fuel,ev_charging,updated_at\n"
            "sa-G4-xuchang,暂停营业,,,,2026-01-24T10:00:00+08:00\n"
            "geodata:sa-G4-changge,歇业,,,,2026-01-24T10:00:00+08:00\n"
            "geodata:sa-G4-luohe,营业,,,也许,2026-01-24T10:00:00+08:00\n"
            "geodata:sa-G4-luohe,营业,,,,2026-01-24T10:00:00+08:00\n"
            "geodata:sa-G4-luohe,营业,,,,2026-01-24T11:00:00+08:00\n").encode()
    parsed = parse_service_area_status(data, CTX)
    got = reasons(parsed)
    assert got[0] == ("line 2: poi_id: 'sa-G4-xuchang' is not a record id (expected source:id, "
                      "e.g. geodata:sa-G4-xuchang)")
    assert got[1].startswith("line 3: open_status: '歇业' is not one of open, partial, closed, unknown, 营业")
    assert got[2].startswith("line 4: ev_charging: '也许' is not one of")
    assert got[3] == "line 6: poi_id: duplicate 'geodata:sa-G4-luohe' (first used on line 5)"
    assert len(parsed.patches) == 1


# --------------------------------------------------------------------------- gauge readings
def test_readings_at_zhoukou_rise_through_the_warning_level_with_stable_ids() -> None:
    parsed = parse_gauge_readings(fixture("gauge_readings.csv"), CTX)
    assert not parsed.snapshot and not parsed.rejected
    zhoukou = [r for r in parsed.records if r.gauge == "geodata:zhoukou"]
    assert [r.level_m for r in zhoukou] == [45.82, 46.31, 46.74, 47.05]
    assert [r.level_m > 46.50 for r in zhoukou] == [False, False, True, True]  # 周口 警戒水位 46.50 m
    first = zhoukou[0]
    assert (first.id, first.source_id) == ("hngs:zhoukou@20260714T180000Z", "zhoukou@20260714T180000Z")
    assert first.observed_at == first.updated_at == datetime(2026, 7, 14, 18, tzinfo=UTC)
    assert first.version == version_of(first.observed_at) and first.flow_m3s == 1180
    assert parsed.records[-1].flow_m3s is None
    assert parse_gauge_readings(fixture("gauge_readings.csv"), CTX).records == parsed.records  # stable across polls


def test_sl323_column_names_are_aliases() -> None:
    refused = parse_gauge_readings(fixture("gauge_readings_sl323.csv"), CTX)
    assert not refused.records and reasons(refused)[0].startswith("line 2: TM: time '2026-07-15 08:00:00' has no")
    parsed = parse_gauge_readings(fixture("gauge_readings_sl323.csv"), SHANGHAI)
    assert [(r.source_id, r.level_m, r.flow_m3s) for r in parsed.records] == [
        ("zhoukou@20260715T000000Z", 46.31, 1420), ("zhoukou@20260715T060000Z", 46.74, 1650)]


def test_implausible_levels_and_repeated_readings_are_rejected() -> None:
    data = (b"STCD,TM,Z,Q\n"
            b"geodata:zhoukou,2026-07-15T08:00:00+08:00,46.31,1420\n"
            b"geodata:zhoukou,2026-07-15T09:00:00+08:00,12000,1420\n"
            b"geodata:zhoukou,2026-07-15T10:00:00+08:00,nan,\n"
            b"geodata:zhoukou,2026-07-15T11:00:00+08:00,46.4,-3\n"
            b"geodata:zhoukou,2026-07-15T00:00:00Z,46.31,1420\n")
    parsed = parse_gauge_readings(data, CTX)
    assert len(parsed.records) == 1
    assert reasons(parsed) == [
        "line 3: Z: Input should be less than or equal to 9000",
        "line 4: Z: 'nan' is not a finite number",
        "line 5: Q: Input should be greater than or equal to 0",
        "line 6: TM: duplicate 'zhoukou@20260715T000000Z' (first used on line 2)",
    ]


def test_gauge_and_its_alias_together_are_refused() -> None:
    with pytest.raises(FeedError, match="column 'STCD' repeats 'gauge'"):
        parse_gauge_readings(b"gauge,STCD,observed_at,level_m\n", CTX)


# --------------------------------------------------------------------------- toll rates
def test_toll_rates_for_classes_1_2_11_13() -> None:
    parsed = parse_toll_rates(fixture("toll_rates.csv"), CTX)
    assert parsed.snapshot and not parsed.rejected
    assert [(r.toll_section, r.vehicle_class, r.fen_per_km) for r in parsed.records[:4]] == [
        ("geodata:tsec-G4-012", 1, 45), ("geodata:tsec-G4-012", 2, 68),
        ("geodata:tsec-G4-012", 11, 45), ("geodata:tsec-G4-012", 13, 116)]
    rate = parsed.records[3]
    assert rate.effective_from == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert rate.effective_to == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    assert rate.version == version_of(datetime(2025, 12, 20, 2, tzinfo=UTC))


def test_bad_vehicle_class_and_other_bad_rates_are_named() -> None:
    rows = ["r1,geodata:tsec-G4-012,5,45,2026-01-01T00:00:00+08:00,,2025-12-20T10:00:00+08:00",
            "r2,geodata:tsec-G4-012,two,45,2026-01-01T00:00:00+08:00,,2025-12-20T10:00:00+08:00",
            "r3,geodata:tsec-G4-012,1,-1,2026-01-01T00:00:00+08:00,,2025-12-20T10:00:00+08:00",
            "r4,geodata:tsec-G4-012,1,45,2026-01-01T00:00:00+08:00,2025-01-01T00:00:00+08:00,2025-12-20T10:00:00+08:00",
            "r5,tsec-G4-012,1,45,2026-01-01T00:00:00+08:00,,2025-12-20T10:00:00+08:00",
            "r6,geodata:tsec-G4-012,26,45,2026-01-01T00:00:00+08:00,,2025-12-20T10:00:00+08:00"]
    parsed = parse_toll_rates((RATE_HEADER + "\n".join(rows)).encode(), CTX)
    assert [r.source_id for r in parsed.records] == ["r6"]
    got = reasons(parsed)
    assert got[0] == ("line 2: vehicle_class: 5 is not a JT/T 489-2019 vehicle class "
                      "(valid: 1–4 (客车), 11–16 (货车), 21–26 (专项作业车))")
    assert got[1] == "line 3: vehicle_class: 'two' is not a whole number"
    assert got[2] == "line 4: fen_per_km: Input should be greater than or equal to 0"
    assert got[3] == "line 5: effective_to: is not after effective_from"
    assert got[4].startswith("line 6: toll_section: 'tsec-G4-012' is not a record id")


def test_line_numbers_count_quoted_multiline_cells() -> None:
    data = (TOLL_HEADER + 't1,郑州南收费站,G4,K695+300,双向,410100,113.78,34.66,部分营业,"入口关闭\n出口正常",'
            "2026-01-24T08:00:00+08:00\n"
            "t2,新郑收费站,G4,K705+000,双向,4101,113.74,34.40,营业,,2026-01-24T08:00:00+08:00\n").encode()
    parsed = parse_toll_stations(data, CTX)
    assert parsed.records[0].status_note == "入口关闭\n出口正常"
    assert reasons(parsed)[0].startswith("line 4: admin_code:")


def test_registry_points_at_these_parsers() -> None:
    assert FORMATS["toll_rates"].parse is parse_toll_rates
    assert FORMATS["sa_status"].parse is parse_service_area_status


# --------------------------------------------------------------------------- robustness
PARSERS = [parse_toll_stations, parse_service_area_status, parse_gauge_readings, parse_toll_rates]
CSVISH = st.lists(st.sampled_from([b",", b"\n", b"\r\n", b'"', b"[", b"{", b"K", b"x_", b"id", b"gauge",
                                   b"updated_at", b"2026-01-24T08:00:00+08:00", b"geodata:zhoukou", b"46.5",
                                   b"\xef\xbb\xbf", b"\xd6\xdc", b"\x00", b"nan", b"0001-01-01T00:00:00+08:00"])
                  | st.binary(max_size=8), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=CSVISH, which=st.sampled_from(range(4)), charset=st.sampled_from([None, "GBK", "utf-8"]))
def test_random_csvish_bytes_raise_nothing_but_feed_error(data: bytes, which: int, charset: str | None) -> None:
    ctx = ParseContext(source="hngs", zone=ZoneInfo("Asia/Shanghai"), charset=charset)
    header = [TOLL_HEADER, "poi_id,open_status,status_note,fuel,ev_charging,updated_at\n",
              "STCD,TM,Z,Q\n", RATE_HEADER][which].encode()
    for doc in (data, header + data):
        with contextlib.suppress(FeedError):
            PARSERS[which](doc, ctx)
