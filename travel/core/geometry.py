"""GeoJSON geometry as a validated pydantic model, convertible to shapely once and cached.

Records keep geometry as GeoJSON (RFC 7946, WGS84 lon/lat) so that they serialize as they are
published; the shapely object is built lazily for indexing and spatial predicates.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, model_validator
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry


class GeometryType(StrEnum):
    """The GeoJSON geometry types the service stores."""

    POINT = "Point"
    LINESTRING = "LineString"
    POLYGON = "Polygon"
    MULTIPOINT = "MultiPoint"
    MULTILINESTRING = "MultiLineString"
    MULTIPOLYGON = "MultiPolygon"


def _positions(coords: Any) -> list[tuple[float, float]]:
    """Flatten nested GeoJSON coordinates into (lon, lat) positions, rejecting malformed ones."""
    if isinstance(coords, (list, tuple)) and coords and all(isinstance(c, (int, float)) for c in coords):
        if len(coords) not in (2, 3):
            raise ValueError(f"a position has {len(coords)} numbers; expected [lon, lat]")
        return [(float(coords[0]), float(coords[1]))]
    if not isinstance(coords, (list, tuple)):
        raise ValueError("coordinates must be nested arrays of numbers")
    out: list[tuple[float, float]] = []
    for c in coords:
        out.extend(_positions(c))
    return out


def check_lon_lat(lon: float, lat: float) -> None:
    """Raise ValueError unless (lon, lat) is a finite WGS84 position."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"coordinate ({lon}, {lat}) is not finite")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside [-90, 90]")


class Geometry(BaseModel):
    """A GeoJSON geometry in WGS84 lon/lat, checked for finite, in-range, valid shapes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: GeometryType
    coordinates: list[Any]

    @model_validator(mode="after")
    def _check(self) -> Geometry:
        coords = self.coordinates
        if self.type is GeometryType.LINESTRING and type(coords) is list and len(coords) <= SMALL_RING:
            wkb = _small_line(coords)
            if wkb is not None:
                self.__dict__["wkb"] = wkb  # fill the cached_property: the shape is built from it when first asked
                return self
        fast = _fast_shape(self.type, self.coordinates)
        if fast is not None:
            self.__dict__["shape"] = fast  # fill the cached_property: built and checked once
            return self
        positions = _positions(self.coordinates)
        if not positions:
            raise ValueError("geometry is empty")
        for lon, lat in positions:
            check_lon_lat(lon, lat)
        if self.type is GeometryType.POLYGON:
            _check_rings(self.coordinates)
        elif self.type is GeometryType.MULTIPOLYGON:
            for polygon in self.coordinates:
                _check_rings(polygon)
        try:
            geom = self.shape
        except (ValueError, TypeError, shapely.errors.GEOSException) as err:
            raise ValueError(f"malformed {self.type}: {err}") from err
        if geom.is_empty:
            raise ValueError("geometry is empty")
        if self.type in (GeometryType.LINESTRING, GeometryType.MULTILINESTRING) and geom.length == 0:
            raise ValueError(f"degenerate {self.type}: all positions are the same")
        if not geom.is_valid:
            raise ValueError(f"invalid {self.type}: {shapely.is_valid_reason(geom)}")
        return self

    @cached_property
    def shape(self) -> BaseGeometry:
        """The shapely geometry (built once per instance)."""
        wkb = self.__dict__.get("wkb")
        if wkb is not None:
            return shapely.from_wkb(wkb)
        return shape({"type": str(self.type), "coordinates": self.coordinates})

    @cached_property
    def wkb(self) -> bytes:
        """The geometry as WKB, as ``shapely.to_wkb`` writes it (a short line keeps the WKB it was checked with)."""
        return shapely.to_wkb(self.shape)

    @classmethod
    def from_shape(cls, geom: BaseGeometry) -> Geometry:
        """Build from a shapely geometry."""
        data = mapping(geom)
        return cls(type=data["type"], coordinates=_listify(data["coordinates"]))

    @classmethod
    def point(cls, lon: float, lat: float) -> Geometry:
        """A Point at (lon, lat)."""
        return cls(type=GeometryType.POINT, coordinates=[lon, lat])


def _check_rings(rings: Any) -> None:
    """GeoJSON polygon rings: closed (the first position repeated last), of 4 positions or more.

    shapely would close an open ring silently, and the record would keep the open one.
    """
    for ring in rings:
        if len(ring) < 4:
            raise ValueError(f"a polygon ring has {len(ring)} positions; it needs at least 4 (3 distinct, closed)")
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ValueError("a polygon ring is not closed: its last position must repeat its first")


def _fast_shape(kind: GeometryType, coords: list[Any]) -> BaseGeometry | None:
    """Points and lines (most records) checked and built in one go.

    Returns None whenever anything is off, so the thorough path below words the precise error.
    """
    if kind is GeometryType.POLYGON:
        return _fast_polygon(coords)
    if kind not in (GeometryType.POINT, GeometryType.LINESTRING):
        return None
    arr = _checked_array(coords, 1 if kind is GeometryType.POINT else 2)
    if arr is None:
        return None
    if kind is GeometryType.POINT:
        return shapely.points(arr)
    if len(arr) < 2 or not (arr[1:, :2] != arr[:-1, :2]).any():
        return None
    return shapely.linestrings(arr)


def _small_line(coords: list[Any]) -> bytes | None:
    """The WKB of a short line of lon/lat pairs (checked in plain Python: no GEOS call, no numpy set-up).

    None when it is not one: fewer than two distinct positions, z, NaN, out of range, not numbers.
    """
    flat = _flat_pairs(coords)
    if flat is None or flat[2:] == flat[:-2]:  # consecutive positions all equal: degenerate (or < 2)
        return None
    return _WKB_LINESTRING.pack(1, 2, len(coords)) + struct.pack(f"<{len(flat)}d", *flat)


def wkbs_and_bounds(
    geometries: Sequence[Geometry | None],
) -> tuple[list[bytes | None], list[tuple[float, float, float, float] | None]]:
    """Each geometry's WKB and bounds (west, south, east, north); None stays None.

    A short line gives the WKB it was checked with and its bounds from its positions; the other
    shapes are converted in one vectorized call (an import serializes a few hundred at a time).
    """
    wkbs: list[bytes | None] = [None] * len(geometries)
    bounds: list[tuple[float, float, float, float] | None] = [None] * len(geometries)
    rest: list[int] = []
    for i, geometry in enumerate(geometries):
        if geometry is None:
            continue
        wkb = geometry.__dict__.get("wkb")
        if wkb is None or geometry.type is not GeometryType.LINESTRING:
            rest.append(i)
            continue
        lons = [float(position[0]) for position in geometry.coordinates]
        lats = [float(position[1]) for position in geometry.coordinates]
        wkbs[i], bounds[i] = wkb, (min(lons), min(lats), max(lons), max(lats))
    if rest:
        shapes = [geometries[i].shape for i in rest]  # type: ignore[union-attr]
        for i, wkb, box in zip(rest, shapely.to_wkb(shapes).tolist(), shapely.bounds(shapes).tolist(), strict=True):
            wkbs[i], bounds[i] = wkb, tuple(box)
    return wkbs, bounds


def _fast_polygon(coords: list[Any]) -> BaseGeometry | None:
    """A polygon without holes (alert areas, admin outlines): closed ring of 4+ positions, valid.

    Built from its WKB, one GEOS call: ``shapely.polygons`` goes through two ufuncs and costs
    twice as much for the small rings alerts mostly have.
    """
    if len(coords) != 1:
        return None
    ring = coords[0]
    wkb = _small_ring_wkb(ring) if type(ring) is list and len(ring) <= SMALL_RING else None
    if wkb is None:
        wkb = _ring_wkb(ring)
        if wkb is None:
            return None
    polygon = shapely.from_wkb(wkb)
    return polygon if polygon.is_valid else None  # the property: one GEOS call, no ufunc set-up


SMALL_RING = 32
"""Up to this many positions a ring is checked in plain Python: numpy's set-up costs more than the loop."""
_WKB_POLYGON = struct.Struct("<BIII")
"""Little-endian WKB header of a Polygon of one ring: byte order, type, number of rings, of positions."""
_WKB_LINESTRING = struct.Struct("<BII")
"""Little-endian WKB header of a LineString: byte order, type, number of positions."""


def _small_ring_wkb(ring: list[Any]) -> bytes | None:
    """WKB of a closed ring of 4+ lon/lat pairs in range; None when it is not one (z, NaN, not numbers …)."""
    flat = _flat_pairs(ring)
    n = len(ring)
    if flat is None or n < 4 or flat[0] != flat[-2] or flat[1] != flat[-1]:
        return None
    return _WKB_POLYGON.pack(1, 3, 1, n) + struct.pack(f"<{2 * n}d", *flat)


def _flat_pairs(positions: list[Any]) -> list[float] | None:
    """[lon, lat, lon, lat, …] of lon/lat pairs in range; None when a position is not one (z, NaN, text …)."""
    flat: list[float] = []
    try:
        for lon, lat in positions:
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):  # NaN fails these too
                return None
            flat += (lon, lat)
    except (TypeError, ValueError):  # not a pair of numbers
        return None
    return flat


def _ring_wkb(coords: Any) -> bytes | None:
    """WKB of a closed ring of 4+ finite positions with lon/lat in range (z allowed); None when it is not one."""
    ring = _checked_array(coords, 2)
    if ring is None or len(ring) < 4 or ring[0, 0] != ring[-1, 0] or ring[0, 1] != ring[-1, 1]:
        return None
    kind = 3 if ring.shape[1] == 2 else 1003  # ISO WKB: 1003 is a Polygon with z
    return _WKB_POLYGON.pack(1, kind, 1, len(ring)) + ring.astype("<f8", copy=False).tobytes()


_LIMITS = {2: np.array([180.0, 90.0]), 3: np.array([180.0, 90.0, np.finfo(float).max])}
"""|lon|, |lat| (and |z|) bounds by position width: one comparison checks range and finiteness (NaN fails it)."""


def _checked_array(coords: Any, ndim: int) -> np.ndarray | None:
    """Coordinates as a numeric array of finite positions with lon/lat in range, or None.

    Numbers only: ``dtype=float`` would also read the strings "113.5" (the record would keep them).
    """
    try:
        arr = np.asarray(coords)
    except (ValueError, TypeError):
        return None
    if arr.dtype.kind not in "iuf" or arr.ndim != ndim or arr.shape[-1] not in (2, 3):
        return None
    return arr if (np.abs(arr) <= _LIMITS[arr.shape[-1]]).all() else None


def _listify(value: Any) -> Any:
    """Turn shapely's nested tuples into lists, as JSON has them."""
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value
