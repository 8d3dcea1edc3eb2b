"""The geo index answers exactly what a brute-force scan of the same geometries answers."""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from travel.core.spatial import distance_between_m, distance_m
from travel.read.index import BAND_DEG, GeoIndex

lons = st.floats(112.0, 114.0)
lats = st.floats(33.0, 35.0)
# Points also on exact band boundaries, where rounding would show first.
grid_lons = st.integers(1120, 1140).map(lambda k: k * BAND_DEG)
grid_lats = st.integers(330, 350).map(lambda k: k * BAND_DEG)
points = st.builds(Point, st.one_of(lons, grid_lons), st.one_of(lats, grid_lats))
lines = st.builds(lambda x, y, dx, dy: LineString([(x, y), (x + dx, y + dy)]), lons, lats,
                  st.floats(-0.2, 0.2), st.floats(-0.2, 0.2))
squares = st.builds(lambda x, y, d: Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y + d)]), lons, lats,
                    st.floats(0.001, 0.2))
geometries = st.lists(st.one_of(points, points, lines, squares), max_size=60)


def _index(geoms: list[BaseGeometry]) -> GeoIndex:
    return GeoIndex.build((f"r{i}", g) for i, g in enumerate(geoms))


@settings(max_examples=150, deadline=None)
@given(geometries, st.one_of(lons, grid_lons), st.one_of(lats, grid_lats), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_in_bbox_is_the_intersecting_geometries_in_index_order(
    geoms: list[BaseGeometry], west: float, south: float, width: float, height: float
) -> None:
    box = shapely.box(west, south, west + width, south + height)
    expected = [f"r{i}" for i, g in enumerate(geoms) if g.intersects(box)]
    assert _index(geoms).in_bbox(west, south, west + width, south + height) == expected


@settings(max_examples=150, deadline=None)
@given(geometries, lons, lats, st.floats(1.0, 100_000.0))
def test_within_is_every_geometry_in_the_radius_nearest_first(
    geoms: list[BaseGeometry], lon: float, lat: float, radius: float
) -> None:
    hits = _index(geoms).within(lon, lat, radius)
    expected = {f"r{i}": d for i, g in enumerate(geoms) if (d := distance_m(g, lon, lat)) <= radius}
    assert dict(hits) == expected
    assert [d for _, d in hits] == sorted(expected.values())


@settings(max_examples=50, deadline=None)
@given(geometries, lons, lats, st.integers(1, 10))
def test_nearest_are_the_k_closest(geoms: list[BaseGeometry], lon: float, lat: float, k: int) -> None:
    found = _index(geoms).nearest(lon, lat, k)
    closest = sorted(distance_m(g, lon, lat) for g in geoms)[:k]
    assert [d for _, d in found] == closest


def test_a_dense_area_agrees_to_the_last_bit() -> None:
    geoms = [Point(113.0 + (i % 40) * 0.001, 34.0 + (i // 40) * 0.001) for i in range(800)]
    hits = _index(geoms).within(113.02, 34.01, 2_000.0)
    expected = {f"r{i}": d for i, g in enumerate(geoms) if (d := distance_m(g, 113.02, 34.01)) <= 2_000.0}
    assert len(hits) > 256
    assert dict(hits) == expected


def test_a_box_covering_the_world_visits_only_occupied_bands() -> None:
    index = _index([Point(113.5, 34.5), Point(-70.0, -30.0), LineString([(0, 0), (1, 1)])])
    assert index.in_bbox(-180.0, -90.0, 180.0, 90.0) == ["r0", "r1", "r2"]


@settings(max_examples=50, deadline=None)
@given(geometries, lons, lats, st.floats(-0.3, 0.3), st.floats(-0.3, 0.3), st.floats(10.0, 20_000.0))
def test_along_is_every_geometry_near_the_line(
    geoms: list[BaseGeometry], x: float, y: float, dx: float, dy: float, within: float
) -> None:
    line = LineString([(x, y), (x + dx + 1e-3, y + dy)])
    found = dict(_index(geoms).along(line, within))
    expected = {f"r{i}": d for i, g in enumerate(geoms) if (d := distance_between_m(g, line)) <= within}
    assert found == expected
