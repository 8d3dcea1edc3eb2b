"""One operation of the API: its route, handler, and what the OpenAPI document says about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from aiohttp import web

from api.params import QueryModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
GEOJSON = "application/geo+json"
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation: route, handler, and what the OpenAPI document says about it.

    ``answer`` is the declaration of the body (a TypedDict or pydantic model) that the handler builds and
    the document shows, for each of ``statuses``; for an event stream, that of each event's data.
    """

    method: str
    path: str
    handler: Handler
    _: KW_ONLY
    summary: str
    tag: str
    query: type[QueryModel] | None = None
    answer: Any = None
    media: str | None = JSON
    statuses: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = field(default=(400,))
    revalidated: bool = False  # answers 304 when If-None-Match names its ETag
    request_body: str | None = None
