"""One operation of the API: its route, handler, and what the OpenAPI document says about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

from api.params import QueryModel
from travel.core.records import Record

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation: route, handler, and what the OpenAPI document says about it."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    query: type[QueryModel] | None = None
    collection_of: type[Record] | None = None
    feature_of: type[Record] | None = None
    json_of: type[BaseModel] | None = None
    errors: tuple[int, ...] = field(default=(400,))
    status: int = 200
    media: str | None = None
    request_body: str | None = None
