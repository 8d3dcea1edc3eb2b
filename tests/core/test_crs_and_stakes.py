"""Coordinate-system and stake conversions: general rules checked with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travel.core.crs import Crs, from_wgs84, gcj02_to_wgs84, in_china, to_wgs84, wgs84_to_gcj02
from travel.core.spatial import haversine_m
from travel.core.stakes import format_stake, format_stake_range, parse_stake

china_lon = st.floats(min_value=73.0, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=53.0)


@given(china_lon, china_lat, st.sampled_from([Crs.GCJ02, Crs.BD09]))
def test_round_trip_through_offset_systems_is_below_half_a_metre(lon: float, lat: float, crs: Crs) -> None:
    back = to_wgs84(*from_wgs84(lon, lat, crs), crs)
    assert haversine_m(lon, lat, *back) < 0.5


@given(china_lon, china_lat)
def test_gcj02_offset_is_hundreds_of_metres_at_most(lon: float, lat: float) -> None:
    shifted = wgs84_to_gcj02(lon, lat)
    assert 1 < haversine_m(lon, lat, *shifted) < 1500


@given(st.floats(min_value=-180, max_value=180), st.floats(min_value=-90, max_value=90))
def test_gcj02_is_identity_outside_china(lon: float, lat: float) -> None:
    if not in_china(lon, lat):
        assert wgs84_to_gcj02(lon, lat) == (lon, lat) == gcj02_to_wgs84(lon, lat)


def test_known_point() -> None:
    # 郑州 二七塔 (WGS84 113.6653, 34.7534) lies ~0.006° west / 0.0012° south of its AMap position.
    lon, lat = wgs84_to_gcj02(113.6653, 34.7534)
    assert lon == pytest.approx(113.6713, abs=0.001) and lat == pytest.approx(34.7522, abs=0.001)


@given(st.integers(min_value=0, max_value=5_000_000))
def test_stake_format_parse_round_trip(metres: int) -> None:
    assert parse_stake(format_stake(metres)) == metres


@pytest.mark.parametrize(("text", "metres"), [
    ("K650+200", 650_200), ("k650+200.5", 650_200.5), ("K650.2", 650_200), ("650", 650_000), ("K0+000", 0),
])
def test_parse_stake_forms(text: str, metres: float) -> None:
    assert parse_stake(text) == pytest.approx(metres)


@pytest.mark.parametrize("bad", ["", "K", "K650+", "K650+1200", "G4", "K-1+000", "K650+200+1"])
def test_parse_stake_refuses_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="stake|below 1000"):
        parse_stake(bad)


def test_stake_range() -> None:
    assert format_stake_range(650_200, 652_000) == "K650+200–K652+000"
    assert format_stake_range(650_200, None) == "K650+200"
    assert format_stake_range(None, None) is None


def test_offset_systems_refuse_positions_outside_china() -> None:
    with pytest.raises(ValueError, match="outside China"):
        to_wgs84(2.35, 48.85, Crs.GCJ02)
    assert to_wgs84(2.35, 48.85, Crs.WGS84) == (2.35, 48.85)
