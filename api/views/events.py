"""Road events (路况): list with filters, one with its version history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter

from aiohttp import web
from pydantic import AwareDatetime, Field

from api.params import ActiveFilter, SpatialQuery, csv_of
from api.views.lists import feature_with_history, list_features
from travel.core.records import ROAD_CODE_PATTERN, SOURCE_PATTERN, EventType, Kind, Record, RoadEvent, Severity
from travel.read.selection import ByRecord

MAX_AGE_S = 10
_in_force = ByRecord(attrgetter("active"))  # status alone decides: memoized per record


class EventsQuery(SpatialQuery):
    """Filters of GET /v1/events."""

    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")
    type: csv_of(EventType) = Field(default_factory=list, description="comma-separated event types")
    severity: csv_of(Severity) = Field(default_factory=list, description="comma-separated severities")
    active: ActiveFilter = Field(default="true", description="true: in force; false: planned or cleared; all")
    since: AwareDatetime | None = Field(default=None, description="only events changed after this time")
    source: str | None = Field(default=None, pattern=SOURCE_PATTERN)


def _keep(q: EventsQuery) -> Callable[[Record], bool] | ByRecord | None:
    """The attribute filters of ``q`` as one predicate (reading only closure locals, once per record).

    Without filters but the default ``active=true`` (most queries), the predicate is the in-force
    test memoized per record; with none at all, there is nothing to call.
    """
    active = None if q.active == "all" else q.active == "true"
    if not q.type and not q.severity and q.road is None and q.source is None and q.since is None:
        if active is None:
            return None
        if active:
            return _in_force
    return _matching(frozenset(q.type), frozenset(q.severity), active, q.road, q.source, q.since)


def _matching(
    types: frozenset[EventType], severities: frozenset[Severity], active: bool | None, road: str | None,
    source: str | None, since: datetime | None,
) -> Callable[[Record], bool]:
    """The predicate of some filters (a function of its own: a closure's cells cost every call that has them)."""

    def keep(record: Record) -> bool:
        assert isinstance(record, RoadEvent)
        if active is not None and record.active != active:
            return False
        if road is not None and record.road != road:
            return False
        if types and record.type not in types:
            return False
        if severities and record.severity not in severities:
            return False
        if source is not None and record.source != source:
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
    return await feature_with_history(request, Kind.EVENT, "road event", MAX_AGE_S)
