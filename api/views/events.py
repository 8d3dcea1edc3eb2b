"""Road events (路况): list with filters, one with its version history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from pydantic import AwareDatetime, Field

from api.geojson import feature
from api.keys import READ_MODEL, STORE
from api.params import ActiveFilter, CrsQuery, SpatialQuery, csv_of, parse_query
from api.views.lists import list_features
from travel.errors import NotFound
from travel.models import ROAD_CODE_PATTERN, SOURCE_PATTERN, EventType, Kind, Record, RoadEvent, Severity

MAX_AGE_S = 10


class EventsQuery(SpatialQuery):
    """Filters of GET /v1/events."""

    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")
    type: csv_of(EventType) = Field(default_factory=list, description="comma-separated event types")
    severity: csv_of(Severity) = Field(default_factory=list, description="comma-separated severities")
    active: ActiveFilter = Field(default="true", description="true: in force; false: planned or cleared; all")
    since: AwareDatetime | None = Field(default=None, description="only events changed after this time")
    source: str | None = Field(default=None, pattern=SOURCE_PATTERN)


def _keep(q: EventsQuery) -> Callable[[Record], bool]:
    """The attribute filters of ``q`` as one predicate."""
    types, severities = frozenset(q.type), frozenset(q.severity)
    since: datetime | None = q.since

    def keep(record: Record) -> bool:
        assert isinstance(record, RoadEvent)
        if q.active != "all" and record.active != (q.active == "true"):
            return False
        if q.road is not None and record.road != q.road:
            return False
        if types and record.type not in types:
            return False
        if severities and record.severity not in severities:
            return False
        if q.source is not None and record.source != q.source:
            return False
        return since is None or (record.ingested_at is not None and record.ingested_at > since)

    return keep


def _newest_first(record: Record) -> tuple[float, str]:
    return (-record.updated_at.timestamp(), record.id)


async def list_events(request: web.Request) -> web.Response:
    """GET /v1/events — road events as a GeoJSON FeatureCollection."""
    return await list_features(request, Kind.EVENT, EventsQuery, _keep, _newest_first, MAX_AGE_S)


async def get_event(request: web.Request) -> web.Response:
    """GET /v1/events/{id} — one event (current version) with every version it has had."""
    q = parse_query(request, CrsQuery)
    event_id = request.match_info["id"]
    view = request.app[READ_MODEL].view(Kind.EVENT)
    history = await request.app[STORE].history(Kind.EVENT, event_id)
    if not history:
        raise NotFound(f"no road event with id '{event_id}'")
    current = view.records.get(event_id)
    if current is None or current.version < history[-1].version:
        current = history[-1]
    versions = [r.model_dump(mode="json", exclude={"geometry"}) for r in history]
    return web.Response(
        body=feature(view, current, q.crs, extra={"history": versions}),
        content_type="application/geo+json",
        headers={"Cache-Control": f"public, max-age={MAX_AGE_S}"},
    )
