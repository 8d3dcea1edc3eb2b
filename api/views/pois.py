"""Points of interest: toll stations, service areas, gas stations, interchanges, bus stations."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from pydantic import Field

from api.params import SpatialQuery, csv_of
from api.views.lists import list_features
from travel.core.records import ROAD_CODE_PATTERN, Kind, OpenStatus, Poi, PoiKind, Record

MAX_AGE_S = 60


class PoisQuery(SpatialQuery):
    """Filters of GET /v1/pois."""

    kind: csv_of(PoiKind) = Field(default_factory=list, description="comma-separated POI kinds")
    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")
    q: str | None = Field(default=None, min_length=1, max_length=50, description="name contains (zh)")
    open_status: csv_of(OpenStatus) = Field(default_factory=list, description="comma-separated statuses")


def _keep(q: PoisQuery) -> Callable[[Record], bool] | None:
    """The attribute filters of ``q`` as one predicate (None without any: nothing to call per record)."""
    if not q.kind and not q.open_status and q.road is None and not q.q:
        return None
    return _matching(frozenset(q.kind), frozenset(q.open_status), q.road, q.q.casefold() if q.q else None)


def _matching(
    kinds: frozenset[PoiKind], statuses: frozenset[OpenStatus], road: str | None, text: str | None,
) -> Callable[[Record], bool]:
    """The predicate of some filters (a function of its own: a closure's cells cost every call that has them)."""

    def keep(record: Record) -> bool:
        assert isinstance(record, Poi)
        if kinds and record.poi_kind not in kinds:
            return False
        if road is not None and record.road != road and road not in record.roads:
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
    return await list_features(request, Kind.POI, PoisQuery, _keep, _by_name, MAX_AGE_S)
