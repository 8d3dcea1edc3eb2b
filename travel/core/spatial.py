"""Metric distances for lon/lat geometries, never in degrees.

Point-to-point distances are great-circle (haversine, mean Earth radius: within 0.5 % of the
ellipsoid). For lines and polygons the nearest point is found in a local equirectangular projection
centred on the query point, and the distance to it is then measured on the sphere, so the answer stays
accurate at provincial scale without building a projection per call.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    # Squares as products, as numpy's ``** 2`` and the compiled index kernels take them: the same bits.
    sin_dp, sin_dl = math.sin(dp / 2), math.sin(dl / 2)
    h = sin_dp * sin_dp + math.cos(p1) * math.cos(p2) * (sin_dl * sin_dl)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_many(lon: float, lat: float, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle distances in metres from one point to many (vectorized)."""
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons - lon)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def degree_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box (west, south, east, north) that surely contains the circle around a point."""
    dlat = radius_m / _M_PER_DEG * 1.01
    cos_lat = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 1e-6)
    dlon = min(180.0, dlat / cos_lat)
    return (max(-180.0, lon - dlon), max(-90.0, lat - dlat), min(180.0, lon + dlon), min(90.0, lat + dlat))


def _to_local(geom: BaseGeometry, lon0: float, lat0: float) -> BaseGeometry:
    """Project to an equirectangular plane in metres centred on (lon0, lat0)."""
    kx = _M_PER_DEG * math.cos(math.radians(lat0))

    def fwd(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(((xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * _M_PER_DEG))

    return shapely.transform(geom, fwd)


def _from_local(x: float, y: float, lon0: float, lat0: float) -> tuple[float, float]:
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    return lon0 + x / kx, lat0 + y / _M_PER_DEG


def distance_m(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Distance in metres from (lon, lat) to the nearest point of ``geom`` (0 inside polygons)."""
    if isinstance(geom, Point):
        return haversine_m(lon, lat, geom.x, geom.y)
    local = _to_local(geom, lon, lat)
    origin = Point(0.0, 0.0)
    if local.covers(origin):
        return 0.0
    nearest = shapely.ops.nearest_points(local, origin)[0]
    nlon, nlat = _from_local(nearest.x, nearest.y, lon, lat)
    return haversine_m(lon, lat, nlon, nlat)


def distance_between_m(geom: BaseGeometry, other: BaseGeometry) -> float:
    """Distance in metres between two geometries (e.g. a record and a route line)."""
    centre = geom.representative_point() if not isinstance(geom, Point) else geom
    if isinstance(geom, Point):
        return distance_m(other, geom.x, geom.y)
    a, b = _to_local(geom, centre.x, centre.y), _to_local(other, centre.x, centre.y)
    pa, pb = shapely.ops.nearest_points(a, b)
    lon1, lat1 = _from_local(pa.x, pa.y, centre.x, centre.y)
    lon2, lat2 = _from_local(pb.x, pb.y, centre.x, centre.y)
    return haversine_m(lon1, lat1, lon2, lat2)


def metres_to_degrees(distance_m: float, lat: float) -> float:
    """A conservative buffer in degrees covering ``distance_m`` at latitude ``lat``."""
    return degree_box(0.0, lat, distance_m)[2]


def locate_on_line(line: BaseGeometry, lon: float, lat: float) -> tuple[float, float]:
    """(fraction along ``line`` of its point nearest to (lon, lat), that point's distance in metres).

    Measured in a local metric plane around the point, so the fraction is of metres, not degrees.
    """
    local = _to_local(line, lon, lat)
    fraction = local.project(Point(0.0, 0.0), normalized=True)
    nearest = local.interpolate(fraction, normalized=True)
    nlon, nlat = _from_local(nearest.x, nearest.y, lon, lat)
    return fraction, haversine_m(lon, lat, nlon, nlat)
