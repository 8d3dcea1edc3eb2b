"""Points of interest: toll stations, service areas, gas stations, interchanges, bus stations."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from pydantic import Field

from api.geojson import feature_collection
from api.keys import READ_MODEL
from api.params import SpatialQuery, csv_of, parse_query
from api.views.lists import geojson_response, list_etag, not_modified, not_modified_response
from travel.models import ROAD_CODE_PATTERN, Kind, OpenStatus, Poi, PoiKind, Record
from travel.selection import select

MAX_AGE_S = 60


class PoisQuery(SpatialQuery):
    """Filters of GET /v1/pois."""

    kind: csv_of(PoiKind) = Field(default_factory=list, description="comma-separated POI kinds")
    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")
    q: str | None = Field(default=None, min_length=1, max_length=50, description="name contains (zh)")
    open_status: csv_of(OpenStatus) = Field(default_factory=list, description="comma-separated statuses")


def _keep(q: PoisQuery) -> Callable[[Record], bool]:
    """The attribute filters of ``q`` as one predicate."""
    kinds, statuses = frozenset(q.kind), frozenset(q.open_status)
    text = q.q.casefold() if q.q else None

    def keep(record: Record) -> bool:
        assert isinstance(record, Poi)
        if kinds and record.poi_kind not in kinds:
            return False
        if q.road is not None and record.road != q.road and q.road not in record.roads:
            return False
        if statuses and record.open_status not in statuses:
            return False
        return text is None or text in record.name.casefold()

    return keep


def _by_name(record: Record) -> tuple[str, str]:
    assert isinstance(record, Poi)
    return (record.name, record.id)


async def list_pois(request: web.Request) -> web.Response:
    """GET /v1/pois — points of interest as a GeoJSON FeatureCollection."""
    q = parse_query(request, PoisQuery)
    view = request.app[READ_MODEL].view(Kind.POI)
    etag = list_etag(view, request)
    if not_modified(request, etag):
        return not_modified_response(etag, MAX_AGE_S)
    near = (*q.near, q.radius_m) if q.near else None
    hits = select(view, bbox=q.bbox, near=near, keep=_keep(q), order=_by_name, limit=q.limit)
    body = feature_collection(view, hits, q.crs, {"count": len(hits), "limit": q.limit})
    return geojson_response(body, etag, MAX_AGE_S)
