"""GET /v1/stream — Server-Sent Events of every change, filtered like the lists, resumable by Last-Event-ID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Union

import orjson
from aiohttp import web
from pydantic import Field, with_config
from typing_extensions import TypedDict

from api.features import feature_of
from api.geojson import Features
from api.keys import FEATURES, READ_MODEL
from api.params import BBoxParam, QueryModel, csv_of, parse_query
from travel.core.answers import EXACT
from travel.core.records import RECORD_TYPES, ROAD_CODE_PATTERN, SOURCE_PATTERN, Kind, Record
from travel.read.hub import Entry, Reset
from travel.store.base import BBox, ChangeOp

HEARTBEAT_S = 15.0
RETRY_MS = 3000
AnyFeature = Union[tuple(feature_of(record) for record in RECORD_TYPES.values())]  # noqa: UP007 # built from a tuple


@with_config(EXACT)
class StreamChange(TypedDict):
    """The data of a ``change`` event: what happened to which record, and the record as a feature."""

    op: ChangeOp
    kind: Kind
    feature: Annotated[AnyFeature, Field(description="the record as the lists show it (without distance_m)")]


@with_config(EXACT)
class StreamReset(TypedDict):
    """The data of a ``reset`` event: the stream cannot resume from Last-Event-ID; start over."""

    reason: str
    action: str


StreamEvent = StreamChange | StreamReset


class StreamQuery(QueryModel):
    """Filters of GET /v1/stream (all optional; none: every change)."""

    kind: csv_of(Kind) = Field(default_factory=list, description="comma-separated record kinds, e.g. event,alert")
    bbox: BBoxParam | None = None
    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")
    source: str | None = Field(default=None, pattern=SOURCE_PATTERN)
    last_event_id: str | None = Field(default=None, max_length=64,
                                      description="resume after this event id (the Last-Event-ID header wins)")


def _matcher(q: StreamQuery) -> Callable[[Record], bool]:
    kinds = frozenset(q.kind)
    bbox: BBox | None = q.bbox

    def keep(record: Record) -> bool:
        if kinds and record.kind not in kinds:
            return False
        if q.source is not None and record.source != q.source:
            return False
        if q.road is not None and record.road_code != q.road and q.road not in getattr(record, "roads", ()):
            return False
        if bbox is not None:
            if record.geometry is None:
                return False
            west, south, east, north = record.geometry.shape.bounds
            if east < bbox.west or west > bbox.east or north < bbox.south or south > bbox.north:
                return False
        return True

    return keep


def _message(entry: Entry, features: Features) -> bytes:
    """The ``change`` event of ``entry``: a ``StreamChange`` with the record as ``features`` writes it."""
    record = entry.change.record
    feature = orjson.Fragment(features.feature(record))
    data = orjson.dumps({"op": entry.change.op.value, "kind": record.kind.value, "feature": feature})
    return b"id: " + entry.event_id.encode() + b"\nevent: change\ndata: " + data + b"\n\n"


async def stream(request: web.Request) -> web.StreamResponse:
    """Stream changes as they are applied to this process's read model."""
    q = parse_query(request, StreamQuery)
    keep = _matcher(q)
    last = request.headers.get("Last-Event-ID") or q.last_event_id
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    await response.write(b"retry: %d\n: connected\n\n" % RETRY_MS)
    hub = request.app[READ_MODEL].hub
    try:
        async for entry in hub.follow(last, HEARTBEAT_S):
            if entry is None:
                await response.write(b": keep-alive\n\n")
            elif keep(entry.change.record):
                await response.write(_message(entry, request.app[FEATURES]))
    except Reset as err:
        reset = StreamReset(reason=str(err), action="reload the lists, then reconnect without Last-Event-ID")
        reason = orjson.dumps(reset)
        await response.write(b"event: reset\ndata: " + reason + b"\n\n")
    except ConnectionResetError:
        pass  # the client went away
    return response
