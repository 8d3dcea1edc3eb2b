"""Linear referencing: stakes ↔ positions on the bundled network and on synthetic chain breaks."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geodata.loader import read_bundle
from tests.factories import section
from travel.core.errors import InvalidParameter
from travel.core.linref import LinearReferencer, RoadLine, Side
from travel.core.records import Direction, Kind, Poi, PoiKind, RoadSection

GEOD = Geod(ellps="WGS84")
KM_LON = 1000 / GEOD.inv(113.0, 34.0, 114.0, 34.0)[2]
"""Degrees of longitude per km at 34°N."""


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the WGS84 ellipsoid (haversine's sphere is 0.2 % off at this latitude)."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@cache
def bundle_referencer() -> LinearReferencer:
    """The bundled network, loaded once for the whole module (hypothesis reruns tests many times)."""
    return LinearReferencer.from_sections(s for s in bundle()[Kind.ROAD_SECTION] if isinstance(s, RoadSection))


@cache
def bundle() -> dict:
    return read_bundle()


def x_road(sid: str, start_km: float, end_km: float, s0: float, s1: float, *, road: str = "S1", lat: float = 34.0,
           **kw) -> RoadSection:
    """A straight east-west section from start_km to end_km (east of 113°E) with stakes s0 → s1."""
    coords = [(113.0 + start_km * KM_LON, lat), (113.0 + end_km * KM_LON, lat)]
    return section(sid, coords, road=road, road_name="测试路", start_stake_m=s0, end_stake_m=s1, **kw)


def chain_break() -> LinearReferencer:
    """A K0–K10, then B K10.5–K20 starting where A ends: stakes K10+000–K10+500 are skipped (短链)."""
    return LinearReferencer.from_sections([x_road("A", 0, 10, 0, 10_000), x_road("B", 10, 19.5, 10_500, 20_000)])


# --------------------------------------------------------------------------- bundled network
@settings(max_examples=150, deadline=None)
@given(road_index=st.integers(0, 16), fraction=st.floats(0, 1))
def test_bundle_round_trip(road_index: int, fraction: float) -> None:
    ref = bundle_referencer()
    road = ref.roads[road_index % len(ref.roads)]
    lo, hi = ref.line(road).stake_range
    stake = lo + fraction * (hi - lo)
    lon, lat = ref.point_at(road, stake)
    on_road = ref.locate(lon, lat, road=road)
    assert on_road.road == road
    assert on_road.stake_m == pytest.approx(stake, abs=1.0)
    assert on_road.offset_m < 1.0
    nearest = ref.locate(lon, lat)
    # Where roads meet (junctions, toll stations shared with a national road) another road may win the tie.
    assert nearest.road == road or nearest.offset_m < 1.0


def test_bundle_toll_stations_locate_back_to_their_stake() -> None:
    ref = bundle_referencer()
    stations = [p for p in bundle()[Kind.POI]
                if isinstance(p, Poi) and p.poi_kind is PoiKind.TOLL_STATION and p.road == "G4"]
    assert len(stations) > 10
    for poi in stations:
        lon, lat = poi.geometry.coordinates
        loc = ref.locate(lon, lat)  # most are also on G107: the expressway wins the tie
        assert loc.road == "G4", poi.name
        assert poi.stake_m is not None
        assert abs(loc.stake_m - poi.stake_m) < 50, poi.name
        assert ref.describe(lon, lat).startswith(f"G4 京港澳高速 {loc.stake}")


def test_bundle_stake_text_and_describe() -> None:
    ref = bundle_referencer()
    lon, lat = ref.point_at("G4", "K650+200")
    assert (lon, lat) == ref.point_at("g4", 650_200.0)
    assert ref.describe(lon, lat) == "G4 京港澳高速 K650+200"
    assert 113 < lon < 115 and 34.5 < lat < 35.5


def test_bundle_line_length_close_to_chainage() -> None:
    line = bundle_referencer().line("G4")
    lo, hi = line.stake_range
    assert (lo, hi) == (505_000.0, pytest.approx(1_016_067.2))
    assert line.length_m == pytest.approx(hi - lo, rel=0.01)
    assert len(line.parts) == 1


# --------------------------------------------------------------------------- errors
def test_unknown_road_suggests_close_codes() -> None:
    with pytest.raises(InvalidParameter, match=r"unknown road 'G44'; did you mean G4\b") as err:
        bundle_referencer().point_at("G44", 650_000)
    assert err.value.param == "road"
    with pytest.raises(InvalidParameter, match="known roads: G0421"):
        bundle_referencer().locate(113.8, 35.0, road="Q9")


@pytest.mark.parametrize("stake", [0.0, 504_999.0, 1_016_100.0, -1.0, float("nan")])
def test_stake_outside_range_refused(stake: float) -> None:
    with pytest.raises(InvalidParameter, match=r"outside G4 京港澳高速, which runs K505\+000–K1016\+067") as err:
        bundle_referencer().point_at("G4", stake)
    assert err.value.param == "stake"


def test_malformed_stake_refused() -> None:
    with pytest.raises(InvalidParameter, match="not a stake"):
        bundle_referencer().point_at("G4", "K65O+200")


def test_far_point_refused_naming_nearest_road_and_distance() -> None:
    ref = LinearReferencer.from_sections([x_road("A", 0, 10, 0, 10_000)])
    lon, lat = 113.0 + 5 * KM_LON, 34.01
    expected = metres(lon, lat, lon, 34.0)  # ~1112 m due north of the road
    with pytest.raises(InvalidParameter, match=r"m from the nearest road, S1 测试路 at K5\+000") as err:
        ref.locate(lon, lat)
    reported = float(re.search(r"is (\d+) m from", err.value.detail).group(1))  # type: ignore[union-attr]
    assert reported == pytest.approx(expected, rel=0.005)
    assert ref.locate(lon, lat, tolerance_m=1200).offset_m == pytest.approx(expected, rel=0.005)


@pytest.mark.parametrize(("lon", "lat"), [(float("nan"), 34.0), (113.0, 95.0)])
def test_bad_position_refused(lon: float, lat: float) -> None:
    with pytest.raises(InvalidParameter):
        bundle_referencer().locate(lon, lat)
    with pytest.raises(InvalidParameter):
        bundle_referencer().locate(lon, lat, road="G4")


def test_far_from_bundle_refused() -> None:
    with pytest.raises(InvalidParameter, match="from the nearest road"):
        bundle_referencer().locate(113.0, 30.0)


# --------------------------------------------------------------------------- chain breaks and gaps
@settings(max_examples=60, deadline=None)
@given(stake=st.one_of(st.floats(0, 10_000), st.floats(10_500, 20_000)))
def test_chain_break_round_trip(stake: float) -> None:
    ref = chain_break()
    loc = ref.locate(*ref.point_at("S1", stake))
    assert loc.road == "S1"
    if abs(stake - 10_000) < 1 or abs(stake - 10_500) < 1:  # the same point: either name of it is right
        assert loc.stake_m in (pytest.approx(10_000, abs=1), pytest.approx(10_500, abs=1))
    else:
        assert loc.stake_m == pytest.approx(stake, abs=1.0)


def test_chain_break_calibrates_each_side() -> None:
    ref = chain_break()
    end_a, start_b = ref.point_at("S1", 10_000), ref.point_at("S1", 10_500)
    assert metres(*end_a, *start_b) < 0.01
    # B is 9.5 km of geometry for 9.5 km of stakes; A 10 km for 10 km: K15+000 lies 14.5 km east.
    lon, _ = ref.point_at("S1", 15_000)
    assert metres(113.0, 34.0, lon, 34.0) == pytest.approx(14_500, rel=0.002)
    assert ref.line("S1").length_m == pytest.approx(19_500, rel=0.002)
    assert ref.line("S1").stake_range == (0, 20_000)


def test_point_inside_chain_break_refused() -> None:
    with pytest.raises(InvalidParameter, match=r"K10\+200 does not exist on S1: stakes K10\+000–K10\+500 are skipped"):
        chain_break().point_at("S1", 10_200)


def test_long_chain_repeats_stakes() -> None:
    """长链: A runs to K10+500 and B restarts at K10+000, so K10+000–K10+500 occurs twice."""
    ref = LinearReferencer.from_sections([x_road("A", 0, 10.5, 0, 10_500), x_road("B", 10.5, 20.5, 10_000, 20_000)])
    lon, lat = ref.point_at("S1", 10_200)
    assert metres(113.0, 34.0, lon, lat) == pytest.approx(10_200, rel=0.002)  # the first occurrence
    assert ref.locate(lon, lat).stake_m == pytest.approx(10_200, abs=1)
    lon_b = 113.0 + 10.7 * KM_LON  # the second occurrence, on B
    assert ref.locate(lon_b, 34.0).stake_m == pytest.approx(10_200, abs=2)


def test_geometry_gap_keeps_parts() -> None:
    line = RoadLine([x_road("B", 15, 20, 15_000, 20_000), x_road("A", 0, 10, 0, 10_000)])
    assert len(line.parts) == 2
    assert line.locate(113.0 + 17 * KM_LON, 34.0).stake_m == pytest.approx(17_000, abs=2)
    with pytest.raises(InvalidParameter, match=r"stakes K10\+000–K15\+000 are skipped"):
        line.point_at(12_000)


def test_section_drawn_against_stakes_is_reversed() -> None:
    line = RoadLine([x_road("A", 10, 0, 10_000, 0)])  # drawn west, stakes increase east
    assert metres(113.0, 34.0, *line.point_at(3_000)) == pytest.approx(3_000, rel=0.002)


# --------------------------------------------------------------------------- sides and carriageways
def test_side_of_line() -> None:
    ref = chain_break()
    assert ref.locate(113.0 + 5 * KM_LON, 34.001).side is Side.LEFT  # north of an eastbound road
    assert ref.locate(113.0 + 5 * KM_LON, 33.999).side is Side.RIGHT
    assert ref.locate(*ref.point_at("S1", 5_000)).side is None


def test_one_way_carriageways_give_direction() -> None:
    offset = 0.0003  # ~33 m: the 上行 carriageway south (right-hand traffic, eastbound), 下行 north
    ref = LinearReferencer.from_sections([
        x_road("up", 0, 10, 0, 10_000, lat=34.0 - offset, oneway=True),
        x_road("down", 10, 0, 10_000, 0, lat=34.0 + offset, oneway=True),
    ])
    up = ref.locate(113.0 + 4 * KM_LON, 34.0 - offset)
    down = ref.locate(113.0 + 4 * KM_LON, 34.0 + offset)
    assert (up.direction, down.direction) == (Direction.INCREASING, Direction.DECREASING)
    assert up.stake_m == pytest.approx(4_000, abs=5) and down.stake_m == pytest.approx(4_000, abs=5)
    assert ref.describe(113.0 + 4 * KM_LON, 34.0 + offset).endswith("K4+000 下行")
    assert ref.describe(113.0 + 4 * KM_LON, 34.0 - offset).endswith("K4+000 上行")
    assert ref.point_at("S1", 4_000, direction=Direction.DECREASING)[1] == pytest.approx(34.0 + offset)
    assert ref.point_at("S1", 4_000, direction=Direction.INCREASING)[1] == pytest.approx(34.0 - offset)
