"""Query-string parsing into pydantic models: unknown or malformed parameters are 400s that name them.

Each endpoint declares a ``QueryModel`` subclass; the same model documents the parameters in the
OpenAPI spec, so the two never drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from travel.crs import Crs, to_wgs84
from travel.errors import InvalidParameter
from travel.geometry import check_lon_lat
from travel.store.base import BBox

M = TypeVar("M", bound="QueryModel")
MAX_RADIUS_M = 200_000.0


def _numbers(value: Any, count: int, name: str) -> list[float]:
    if not isinstance(value, str):
        raise ValueError(f"expected {count} comma-separated numbers")
    parts = value.split(",")
    if len(parts) != count:
        raise ValueError(f"expected {count} comma-separated numbers ({name}), got {len(parts)}")
    try:
        numbers = list(map(float, parts))
    except ValueError:
        raise ValueError(f"expected {count} comma-separated numbers ({name})") from None
    if not all(map(math.isfinite, numbers)):
        raise ValueError("numbers must be finite (no NaN or infinity)")
    return numbers


def _lon_lat(value: Any) -> Any:
    if isinstance(value, tuple):
        return value
    lon, lat = _numbers(value, 2, "lon,lat")
    check_lon_lat(lon, lat)
    return (lon, lat)


def _bbox(value: Any) -> Any:
    if isinstance(value, BBox):
        return value
    west, south, east, north = _numbers(value, 4, "west,south,east,north")
    check_lon_lat(west, south)
    check_lon_lat(east, north)
    if west >= east:
        raise ValueError(f"west ({west}) must be less than east ({east}): order is west,south,east,north")
    if south >= north:
        raise ValueError(f"south ({south}) must be less than north ({north}): order is west,south,east,north")
    return BBox(west, south, east, north)


def _csv_list(value: Any) -> Any:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


LonLat = Annotated[
    tuple[float, float],
    BeforeValidator(_lon_lat),
    Field(description="a position as lon,lat", json_schema_extra={"type": "string", "example": "113.85,34.03"}),
]
BBoxParam = Annotated[
    BBox,
    BeforeValidator(_bbox),
    Field(description="west,south,east,north", json_schema_extra={"type": "string", "example": "113,34,114.5,35"}),
]


def csv_of(item: Any) -> Any:
    """A comma-separated list parameter of ``item`` values."""
    return Annotated[list[item], BeforeValidator(_csv_list)]


class QueryModel(BaseModel):
    """Base of endpoint parameter models: unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class CrsQuery(QueryModel):
    """Endpoints returning one geometry take only ``crs``."""

    crs: Crs = Field(default=Crs.WGS84, description="coordinate system of the result")


class SpatialQuery(QueryModel):
    """Parameters shared by list endpoints with geometry: bbox or near+radius, crs, limit."""

    bbox: BBoxParam | None = None
    near: LonLat | None = None
    radius_m: float = Field(default=5000.0, gt=0, le=MAX_RADIUS_M, description="metres around `near`")
    crs: Crs = Field(default=Crs.WGS84, description="coordinate system of parameters and results")
    limit: int = Field(default=500, ge=1, le=5000)

    @model_validator(mode="after")
    def _check_and_convert(self) -> SpatialQuery:
        """One after-validator (a Python call per request, not two): combinations, then WGS84 input."""
        if self.near is None and "radius_m" in self.model_fields_set:
            raise ValueError("radius_m: needs near=lon,lat")
        if self.bbox is not None and self.near is not None:
            raise ValueError("bbox: cannot be combined with near; give one of them")
        if self.crs is Crs.WGS84:
            return self
        updates: dict[str, Any] = {}
        try:
            if self.near is not None:
                updates["near"] = to_wgs84(*self.near, self.crs)
            if self.bbox is not None:
                w, s = to_wgs84(self.bbox.west, self.bbox.south, self.crs)
                e, n = to_wgs84(self.bbox.east, self.bbox.north, self.crs)
                updates["bbox"] = BBox(w, s, e, n)
        except ValueError as err:
            raise ValueError(f"{'near' if self.near is not None else 'bbox'}: {err}") from None
        for key, value in updates.items():
            object.__setattr__(self, key, value)
        return self


def query_pairs(request: web.Request) -> Iterable[tuple[str, str]]:
    """The query's (name, value) pairs, decoded exactly as ``request.query`` decodes them.

    Without percent-escapes, decoding is yarl's own split (``+`` is a space), done here without
    building the MultiDict that ``request.query`` keeps: a few microseconds on every request.
    """
    raw = request.rel_url.raw_query_string
    if "%" in raw:
        return request.query.items()
    pairs = []
    for pair in raw.replace("+", " ").split("&"):
        if pair:
            name, _, value = pair.partition("=")
            pairs.append((name, value))
    return pairs


def parse_query(request: web.Request, model: type[M]) -> M:
    """Validate the query string against ``model``; InvalidParameter names the first bad one."""
    raw: dict[str, str] = {}
    for key, value in query_pairs(request):
        if key in raw:
            raise InvalidParameter(f"parameter '{key}' is given more than once", param=key)
        raw[key] = value
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = first["loc"]
        param = str(loc[0]) if loc else None
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(f.alias or name for name, f in model.model_fields.items()))
            raise InvalidParameter(f"unknown parameter '{param}'; known: {known}", param=param) from None
        message = first["msg"].removeprefix("Value error, ")
        if param is None and ": " in message and message.split(": ", 1)[0] in model.model_fields:
            param, message = message.split(": ", 1)
        where = f"parameter '{param}': " if param else ""
        raise InvalidParameter(f"{where}{message}", param=param) from None


ActiveFilter = Literal["true", "false", "all"]
