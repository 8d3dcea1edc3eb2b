"""Source health (GET /v1/sources) and push ingestion (POST /v1/ingest/{source})."""

from __future__ import annotations

import time

import orjson
from aiohttp import web
from pydantic import BaseModel, with_config
from typing_extensions import TypedDict

from api.keys import FEEDS, SETTINGS
from feeds.base import FeedError
from travel.core.answers import EXACT
from travel.core.errors import InvalidParameter, InvalidRecord, NotFound
from travel.core.zone import in_zone
from travel.ingest.health import SourceStatus
from travel.ingest.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from travel.ingest.sources import secret_of


class SourcesResponse(BaseModel):
    """GET /v1/sources."""

    model_config = EXACT

    sources: list[SourceStatus]
    stale: list[str]


@with_config(EXACT)
class IngestResponse(TypedDict):
    """POST /v1/ingest/{source}: the document is durable."""

    source: str
    records: int
    created: int
    updated: int
    unchanged: int
    ended: int
    patched: int
    rejected: int
    rejections: list[str]


async def list_sources(request: web.Request) -> web.Response:
    """GET /v1/sources — every configured source's health, its times in the service's zone."""
    zone = request.app[SETTINGS].zone
    overview = [in_zone(status, zone) for status in await request.app[FEEDS].overview()]
    body = SourcesResponse(sources=overview, stale=[s.id for s in overview if s.stale])
    return web.Response(body=body.model_dump_json(), content_type="application/json",
                        headers={"Cache-Control": "no-cache"})


async def ingest(request: web.Request) -> web.Response:
    """POST /v1/ingest/{source} — a signed document from a push source; 202 once it is durable."""
    feeds = request.app[FEEDS]
    source_id = request.match_info["source"]
    config = feeds.sources.get(source_id)
    if config is None or not config.push:
        raise NotFound(f"no push source '{source_id}'")
    secret = secret_of(config)
    if secret is None:
        raise InvalidParameter(f"push source '{source_id}' has no secret configured; pushes are refused")
    body = await request.read()
    now = time.time()
    signature = request.headers.get(SIGNATURE_HEADER)
    verify(secret, request.headers.get(TIMESTAMP_HEADER), signature, body, now)
    await feeds.replays.first_time(source_id, signature or "", now)
    try:
        outcome = await feeds.ingestor.take(config, body, request.charset)
    except FeedError as err:
        raise InvalidRecord(f"document refused: {err}") from err
    except BaseException:
        await feeds.replays.forget(source_id, signature or "")  # not taken: the sender may retry it
        raise
    answer = IngestResponse(source=source_id, **outcome.summary(), rejections=outcome.rejected)
    return web.Response(status=202, body=orjson.dumps(answer), content_type="application/json")
