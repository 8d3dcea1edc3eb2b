"""The bundle's illustrative toll tariff: rates per toll section and class, the rule set, dated notices.

Nothing here is an official Henan table (none was reachable, see shared research notes): passenger
rates follow the commonly reported 0.45/0.65/1.00/1.20 元/km for four-lane expressways, trucks and
special-purpose vehicles an axle-based ladder of the same shape as other provinces' 2020 tables.
Every file says ``verified: false`` or ``approximate``. Holiday windows follow the State Council's
holiday arrangements for 2025 and 2026 (国发〔2012〕37号 sets the rule: 7 seats or fewer, judged by
the exit time, 00:00 of the first day to 24:00 of the last).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

RATES_FROM = "2020-01-01T00:00:00+08:00"
ZONE = "+08:00"
# fen per km on a four-lane expressway, by JT/T 489-2019 class
BASE_FEN_PER_KM: dict[int, int] = {
    1: 45, 2: 65, 3: 100, 4: 120,
    11: 45, 12: 90, 13: 135, 14: 160, 15: 195, 16: 215,
    21: 45, 22: 90, 23: 135, 24: 160, 25: 195, 26: 215,
}
WIDE_ROAD_MARKUP = Decimal("1.1")  # six lanes or more
SPECIAL_MARKUP: dict[str, Decimal] = {"bridge": Decimal("1.5"), "tunnel": Decimal("1.3")}
# toll section → (special kind, what makes it special); whole sections, as provinces price 桥隧 stretches
SPECIAL_SECTIONS: dict[str, tuple[str, str]] = {
    "tsec-G4-010": ("bridge", "刘江黄河大桥"),
    "tsec-G45-007": ("bridge", "开封黄河特大桥"),
    "tsec-G55-002": ("bridge", "黄河特大桥"),
    "tsec-G59-003": ("tunnel", "崤山隧道群"),
    "tsec-G40-018": ("tunnel", "西坪隧道群"),
}
HOLIDAYS: tuple[tuple[int, str, str, str], ...] = (
    (2025, "春节", "01-28", "02-04"),
    (2025, "清明节", "04-04", "04-06"),
    (2025, "劳动节", "05-01", "05-05"),
    (2025, "国庆节", "10-01", "10-08"),
    (2026, "春节", "02-15", "02-23"),
    (2026, "清明节", "04-04", "04-06"),
    (2026, "劳动节", "05-01", "05-05"),
    (2026, "国庆节", "10-01", "10-07"),
)
HARVEST_SEASONS: tuple[tuple[int, str, str, str], ...] = (
    (2026, "三夏", "05-20", "07-10"),
    (2026, "三秋", "09-15", "11-15"),
)
TRUCKS = [*range(11, 17)]
ILLUSTRATIVE = "示例数据：日期依据当年国务院办公厅节假日安排，请以官方公告为准"

Feature = Callable[[str, Any, dict[str, Any]], dict[str, Any]]
WriteGeojson = Callable[..., None]


def special_of(section_id: str) -> tuple[str, str] | None:
    """(special kind, name) of a toll section priced on its own, if it is one."""
    return SPECIAL_SECTIONS.get(section_id)


def fen_per_km(vehicle_class: int, lanes: int | None, special: str | None) -> int:
    """The illustrative rate of one class on one section."""
    rate = Decimal(BASE_FEN_PER_KM[vehicle_class])
    if lanes is not None and lanes >= 6:
        rate *= WIDE_ROAD_MARKUP
    if special is not None:
        rate *= SPECIAL_MARKUP[special]
    return int(rate.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def write_rates(out: Path, sections: list[tuple[str, int | None]]) -> None:
    """toll_rates.csv: one row per (toll section, class); ``sections`` are (id, lanes)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "toll_section", "vehicle_class", "fen_per_km", "effective_from"])
    for section_id, lanes in sections:
        special = special_of(section_id)
        for vehicle_class in BASE_FEN_PER_KM:
            rate = fen_per_km(vehicle_class, lanes, special[0] if special else None)
            w.writerow([f"rate-{section_id.removeprefix('tsec-')}-{vehicle_class}", section_id, vehicle_class,
                        rate, RATES_FROM])
    (out / "toll_rates.csv").write_text(buf.getvalue(), encoding="utf-8")


def _day(year: int, month_day: str, end: bool = False) -> str:
    """Local midnight starting (or, with ``end``, ending) that day, as ISO 8601 with the +08:00 offset."""
    day = date.fromisoformat(f"{year}-{month_day}") + timedelta(days=1 if end else 0)
    return f"{day.isoformat()}T00:00:00{ZONE}"


def rules_features(feature: Feature) -> list[dict[str, Any]]:
    """The one rule set of the bundle."""
    return [feature("henan-2020", None, {
        "rule_version": "henan-2020.1", "title": "河南省高速公路车辆通行费计收规则（示例配置）",
        "document": "国办发〔2019〕23号（ETC通行费优惠不少于5%；ETC精确到分，非ETC四舍五入到元）",
        "effective_from": RATES_FROM, "etc_discount_percent": 5, "cash_rounding": "yuan",
        "etc_not_above_cash": True, "minimum_fen": {}, "verified": False})]


def notice_features(feature: Feature) -> list[dict[str, Any]]:
    """Holiday toll-free notices per year, the green channel, and the harvest seasons."""
    feats = [
        feature(f"holiday-{year}-{slug}", None, {
            "policy": "holiday_free", "title": f"{year}年{name}假期小型客车免费通行",
            "document": "国发〔2012〕37号", "issuer": "交通运输部",
            "description": f"{year}年{name}假期（{_day(year, first)[:10]}至{_day(year, last)[:10]}），"
                           f"7座以下（含7座）载客车辆免收车辆通行费，以车辆驶离出口收费车道的时间为准。{ILLUSTRATIVE}",
            "starts_at": _day(year, first), "ends_at": _day(year, last, end=True),
            "vehicle_classes": [1], "max_seats": 7})
        for year, name, first, last in HOLIDAYS
        for slug in [{"春节": "spring", "清明节": "qingming", "劳动节": "labour", "国庆节": "national"}[name]]
    ]
    feats.append(feature("green-channel", None, {
        "policy": "green_channel", "title": "鲜活农产品运输“绿色通道”免收通行费",
        "document": "交公路发〔2019〕99号", "issuer": "交通运输部、国家发展改革委、财政部",
        "description": "整车合法装载运输《鲜活农产品品种目录》内产品的车辆免收通行费，须预约并接受查验；"
                       "超限超载、混装非鲜活农产品的车辆不享受。",
        "starts_at": RATES_FROM, "vehicle_classes": TRUCKS}))
    feats.extend(
        feature(f"harvester-{year}-{slug}", None, {
            "policy": "combine_harvester", "title": f"{year}年{season}跨区作业联合收割机免费通行",
            "document": "农机跨区作业证", "issuer": "河南省交通运输厅、河南省农业农村厅",
            "description": f"持跨区作业证的联合收割机（插秧机）及运输车辆免收通行费（{season}期间，示例日期）。",
            "starts_at": _day(year, first), "ends_at": _day(year, last, end=True),
            "vehicle_classes": [*TRUCKS, *range(21, 27)]})
        for year, season, first, last in HARVEST_SEASONS
        for slug in [{"三夏": "summer", "三秋": "autumn"}[season]]
    )
    return feats


def write_tariff(out: Path, write_geojson: WriteGeojson, feature: Feature,
                 sections: list[tuple[str, int | None]]) -> None:
    """Every tariff file of the bundle."""
    write_rates(out, sections)
    write_geojson("toll_rules.geojson", "toll_rules", "通行费计收规则（示例配置）", rules_features(feature))
    write_geojson("toll_notices.geojson", "toll_notice", "免收通行费公告与政策（示例）", notice_features(feature))
