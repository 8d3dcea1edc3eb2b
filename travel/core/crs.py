"""WGS84 ↔ GCJ-02 ↔ BD-09, the coordinate systems of Chinese web maps.

GCJ-02 is the published obfuscation used by AMap/Tencent (applied only inside China); BD-09 is
Baidu's further offset of GCJ-02. The forward formulas are the widely published ones (e.g.
eviltransform, coordtransform); the inverses are solved by fixed-point iteration to < 1e-7°.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


class Crs(StrEnum):
    """Coordinate systems accepted and returned via ``crs=``."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def in_china(lon: float, lat: float) -> bool:
    """The rough mainland-China box in which GCJ-02 applies (outside it GCJ-02 equals WGS84)."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02 (identity outside China)."""
    if not in_china(lon, lat):
        return lon, lat
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def _invert(forward: Callable[[float, float], tuple[float, float]], lon: float, lat: float) -> tuple[float, float]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration (the offsets vary slowly)."""
    x, y = lon, lat
    for _ in range(30):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-10 and abs(dy) < 1e-10:
            break
    return x, y


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS84 (iterative inverse, error far below a centimetre)."""
    if not in_china(lon, lat):
        return lon, lat
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02 (iterative inverse)."""
    return _invert(gcj02_to_bd09, lon, lat)


def _wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[Crs, Callable[[float, float], tuple[float, float]]] = {
    Crs.GCJ02: gcj02_to_wgs84,
    Crs.BD09: _bd09_to_wgs84,
}
_FROM_WGS84: dict[Crs, Callable[[float, float], tuple[float, float]]] = {
    Crs.GCJ02: wgs84_to_gcj02,
    Crs.BD09: _wgs84_to_bd09,
}


def to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """Convert a position given in ``crs`` to WGS84; GCJ-02/BD-09 positions outside China are refused."""
    if crs is Crs.WGS84:
        return lon, lat
    if not in_china(lon, lat):
        raise ValueError(f"({lon}, {lat}) lies outside China, where {crs.value} is not defined; use crs=wgs84")
    return _TO_WGS84[crs](lon, lat)


def from_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """Convert a WGS84 position to ``crs``."""
    return (lon, lat) if crs is Crs.WGS84 else _FROM_WGS84[crs](lon, lat)


def convert_coordinates(coords: Any, crs: Crs) -> Any:
    """Convert nested GeoJSON coordinates from WGS84 to ``crs`` (a new structure)."""
    if crs is Crs.WGS84:
        return coords
    if coords and isinstance(coords[0], (int, float)):
        lon, lat = from_wgs84(coords[0], coords[1], crs)
        return [round(lon, 7), round(lat, 7), *coords[2:]]
    return [convert_coordinates(c, crs) for c in coords]
