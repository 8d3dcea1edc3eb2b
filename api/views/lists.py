"""What list endpoints share: conditional GET with ETags and cache headers."""

from __future__ import annotations

import zlib

from aiohttp import web

from travel.readmodel import KindView

BOOT_TAG = format(zlib.crc32(str(id(object())).encode()), "08x")


def list_etag(view: KindView, request: web.Request) -> str:
    """A weak ETag from the view's generation and the query: changes whenever the answer may."""
    query = zlib.crc32(request.query_string.encode())
    return f'W/"{BOOT_TAG}-{view.generation}-{query:08x}"'


def not_modified(request: web.Request, etag: str) -> bool:
    """Whether the client's If-None-Match already names ``etag``."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    return header.strip() == "*" or etag in (t.strip() for t in header.split(","))


def geojson_response(body: bytes, etag: str, max_age: int) -> web.Response:
    """A cacheable GeoJSON response."""
    return web.Response(
        body=body,
        content_type="application/geo+json",
        headers={"ETag": etag, "Cache-Control": f"public, max-age={max_age}"},
    )


def not_modified_response(etag: str, max_age: int) -> web.Response:
    """304 with the validators repeated."""
    return web.Response(status=304, headers={"ETag": etag, "Cache-Control": f"public, max-age={max_age}"})
