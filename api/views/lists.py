"""What list endpoints share: parse, conditional GET with ETags, select from the read model, GeoJSON."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, TypeVar

from aiohttp import hdrs, web
from multidict import CIMultiDict
from pydantic import TypeAdapter, ValidationError

from api.endpoint import GEOJSON
from api.features import ListMeta
from api.geojson import feature_collection
from api.keys import FEATURES, FEEDS, READ_MODEL, STORE
from api.params import CrsQuery, PlainSpatial, SpatialQuery, parse_query, plain_spatial
from travel.core.crs import Crs
from travel.core.errors import NotFound
from travel.core.records import Kind, Record
from travel.read.readmodel import KindView
from travel.read.selection import ByRecord, select

Q = TypeVar("Q", bound=SpatialQuery)
RECORD_ID = TypeAdapter(Record.model_fields["id"].rebuild_annotation())  # what a record's id may be

# Distinguishes this process's generations from another's (or a restarted one's) in ETags.
BOOT_TAG = secrets.token_hex(4)


def list_etag(view: KindView, request: web.Request, stale: dict[str, float], moment: str = "") -> str:
    """A weak ETag from the view's generation, the query as sent, which sources are stale and ``moment``.

    ``moment`` names where the clock stands for kinds whose answer changes with time alone.
    """
    query = request.rel_url.raw_query_string
    if stale:
        query += "|" + ",".join(sorted(stale))
    generation = f"{view.generation}.{moment}" if moment else str(view.generation)
    return _weak_etag(generation, query)


def views_etag(views: Iterable[KindView], request: web.Request) -> str:
    """A weak ETag for an answer drawn from several views: their generations and the query as sent."""
    return _weak_etag("-".join(str(v.generation) for v in views), request.rel_url.raw_query_string)


def _weak_etag(generations: str, query: str) -> str:
    # hash() is salted per process, as the tag is: the URL's own hash, computed once, stands in for a CRC.
    return f'W/"{BOOT_TAG}-{generations}-{hash(query) & 0xFFFFFFFF:08x}"'


def not_modified(request: web.Request, etag: str) -> bool:
    """Whether the client's If-None-Match already names ``etag``."""
    header = request.headers.get(hdrs.IF_NONE_MATCH)
    if not header:
        return False
    return header.strip() == "*" or etag in (t.strip() for t in header.split(","))


def validators(etag: str, max_age: int, *more: tuple[str, str]) -> CIMultiDict[str]:
    """The headers that let a cache keep an answer ``max_age`` seconds and revalidate it by ``etag``."""
    return CIMultiDict(((hdrs.ETAG, etag), (hdrs.CACHE_CONTROL, f"public, max-age={max_age}"), *more))


def geojson_response(body: bytes, etag: str, max_age: int) -> web.Response:
    """A cacheable GeoJSON response (headers handed over as aiohttp keeps them, not copied)."""
    return web.Response(body=body, headers=validators(etag, max_age, (hdrs.CONTENT_TYPE, GEOJSON)))


def not_modified_response(etag: str, max_age: int) -> web.Response:
    """304 with the validators repeated."""
    return web.Response(status=304, headers=validators(etag, max_age))


async def list_features(
    request: web.Request,
    kind: Kind,
    query_model: type[Q],
    keep: Callable[[Q], Callable[[Record], bool] | ByRecord | None],
    order: Callable[[Record], Any],
    max_age: int,
    moment: Callable[[KindView], str] | None = None,
) -> web.Response:
    """A filtered FeatureCollection of ``kind``: bbox or near+radius, ``keep(q)``, ``order``, limit.

    ``moment(view)`` joins the ETag when ``keep`` reads the clock, so a revalidation sees time pass.

    A query of nothing but a place and a limit skips building the model: its filters are the defaults.
    (``plain_spatial`` reads only models that are ``plain_readable`` and have no required field.)
    """
    plain = plain_spatial(request, query_model)
    if plain is not None:
        q: Q | PlainSpatial = plain
        predicate, crs = keep(_no_filters(query_model)), Crs.WGS84
    else:
        q = parse_query(request, query_model)
        predicate, crs = keep(q), q.crs
    app = request.app
    view = app[READ_MODEL].view(kind)
    stale = app[FEEDS].stale.ages()
    etag = list_etag(view, request, stale, moment(view) if moment is not None else "")
    if not_modified(request, etag):
        return not_modified_response(etag, max_age)
    near = (*q.near, q.radius_m) if q.near else None
    selection = select(view, bbox=q.bbox, near=near, keep=predicate, order=order, limit=q.limit)
    meta: ListMeta = {"count": len(selection.ids), "limit": q.limit}
    if stale:
        # Data of a source that stopped answering is still served, said to be that old.
        shown = {view.records[i].source for i in selection.ids}
        meta["stale_sources"] = {source: age for source, age in stale.items() if source in shown}
    body = feature_collection(app[FEATURES], view, selection, crs, meta)
    return geojson_response(body, etag, max_age)


@cache
def _no_filters(query_model: type[Q]) -> Q:
    """The query giving no parameter, built once; ``keep`` still runs per request (it may read the clock)."""
    return query_model.model_validate({})


def _could_be_id(value: str) -> bool:
    """Whether a record may have ``value`` as id: others are not looked up (a NUL, say, no store can even hold)."""
    if "\x00" in value:
        return False
    try:
        RECORD_ID.validate_python(value)
    except ValidationError:
        return False
    return True


async def feature_with_history(request: web.Request, kind: Kind, label: str, max_age: int) -> web.Response:
    """One record (current version) as a Feature with every version it has had under ``history``."""
    q = parse_query(request, CrsQuery)
    record_id = request.match_info["id"]
    view = request.app[READ_MODEL].view(kind)
    history = await request.app[STORE].history(kind, record_id) if _could_be_id(record_id) else []
    if not history:
        raise NotFound(f"no {label} with id '{record_id}'")
    current = view.records.get(record_id)
    if current is None or current.version < history[-1].version:
        current = history[-1]
    features = request.app[FEATURES]
    versions = [features.properties(r) for r in history]
    return web.Response(
        body=features.feature(current, q.crs, extra={"history": versions}),
        content_type=GEOJSON,
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )
