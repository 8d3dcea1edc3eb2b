"""Query-string parsing into pydantic models: unknown or malformed parameters are 400s that name them.

Each endpoint declares a ``QueryModel`` subclass; the same model documents the parameters in the
OpenAPI spec, so the two never drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, TypeVar

import annotated_types
from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from travel.core.crs import Crs, to_wgs84
from travel.core.errors import InvalidParameter
from travel.core.geometry import check_lon_lat
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

    plain_readable: ClassVar[bool] = True
    """Whether ``plain_spatial`` may read this model's plain queries without it: a subclass that adds a
    validator sets it False (pydantic shows no public list of a model's validators to find them by).
    ``tests/api/test_params.py`` checks every subclass that leaves it True against pydantic."""

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


class PlainSpatial(NamedTuple):
    """A list query of nothing but a place and a limit, in WGS84: what map views and "near me" ask."""

    bbox: BBox | None
    near: tuple[float, float] | None
    radius_m: float
    limit: int


class _Limits(NamedTuple):
    """``radius_m`` and ``limit``: defaults and bounds as the model declares them."""

    radius_default: float
    radius_above: float  # exclusive
    radius_max: float
    limit_default: int
    limit_min: int
    limit_max: int

    @classmethod
    def of(cls, model: type[SpatialQuery]) -> _Limits | None:
        """The model's limits; None if it is not ``plain_readable`` or has required fields (pydantic must read it)."""
        if not model.plain_readable or any(f.is_required() for f in model.model_fields.values()):
            return None
        radius, limit = model.model_fields["radius_m"], model.model_fields["limit"]

        def bound(field: FieldInfo, kind: type[Any], name: str) -> Any:
            return next(getattr(m, name) for m in field.metadata if isinstance(m, kind))

        return cls(radius.default, bound(radius, annotated_types.Gt, "gt"), bound(radius, annotated_types.Le, "le"),
                   limit.default, bound(limit, annotated_types.Ge, "ge"), bound(limit, annotated_types.Le, "le"))


_limits = cache(_Limits.of)
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,12})?").fullmatch
_COUNT = re.compile(r"[1-9][0-9]{0,8}").fullmatch


def plain_spatial(request: web.Request, model: type[SpatialQuery]) -> PlainSpatial | None:
    """The query as ``PlainSpatial`` when it is one, read without pydantic; else None (``parse_query``).

    A list request's pydantic validation, small in isolation, costs several times more inside a busy
    server, where it evicts the request path from the CPU caches; most list queries are this plain.
    Counted by callgrind in-process (2026-12), this path saves ~15k instructions of a `bench api`
    /v1/pois near-10 km request's ~141k handler and ~19k of a /v1/events bbox-0.3° one's ~153k: ~4 % of
    a served request (~430k): rows at 0.60–0.62 would miss their 0.60 target without it.
    Only what ``model`` would certainly read the same way is read here: ``near`` and ``bbox`` by the
    model's own before-validators, ``radius_m`` and ``limit`` as plain ASCII decimals within the
    model's bounds, each at most once, ``near`` and ``bbox`` not together, ``radius_m`` only with
    ``near``. Anything else (another parameter, an escape, an error) is left to ``parse_query``, so
    every error and its message stay pydantic's. ``tests/api/test_params.py`` checks the two agree.
    """
    raw = request.rel_url.raw_query_string
    if "%" in raw or "+" in raw:
        return None
    bbox = near = radius = limit = None
    try:
        for pair in raw.split("&"):
            name, _, value = pair.partition("=")
            if name == "near" and near is None:
                near = _lon_lat(value)
            elif name == "bbox" and bbox is None:
                bbox = _bbox(value)
            elif name == "radius_m" and radius is None and _DECIMAL(value):
                radius = float(value)
            elif name == "limit" and limit is None and _COUNT(value):
                limit = int(value)
            elif pair:
                return None
    except ValueError:
        return None
    if near is not None and bbox is not None:
        return None
    bounds = _limits(model)
    if bounds is None:
        return None
    if radius is None:
        radius = bounds.radius_default
    elif near is None or not bounds.radius_above < radius <= bounds.radius_max:
        return None
    if limit is None:
        limit = bounds.limit_default
    elif not bounds.limit_min <= limit <= bounds.limit_max:
        return None
    return PlainSpatial(bbox, near, radius, limit)


ActiveFilter = Literal["true", "false", "all"]
