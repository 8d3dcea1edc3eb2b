"""Cross-cutting request handling: errors as problem+json with metrics, and CORS."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from api.keys import METRICS, SETTINGS
from api.problems import problem
from travel.errors import ServiceUnavailable, TravelError

log = logging.getLogger(__name__)

CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, If-None-Match, Last-Event-ID, X-API-Key, X-Signature, X-Timestamp"
CORS_EXPOSE = "ETag, Retry-After, Link"


def _route_name(request: web.Request) -> str:
    """The matched route's template (bounded label cardinality), or 'unmatched'."""
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into RFC 9457 problems, then count and time the request by route template.

    One middleware rather than two: each layer costs a call on every request.
    """
    start = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            _observe(request, exc.status, start)
            raise
        response = _http_problem(request, exc)
    except TravelError as err:
        headers = {"Retry-After": str(err.retry_after_s)} if isinstance(err, ServiceUnavailable) else None
        response = problem(err.status, err.title, err.detail, instance=request.path, headers=headers,
                           param=err.param, **err.extensions)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        response = problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged",
                           instance=request.path)
    _observe(request, response.status, start)
    return response


def _observe(request: web.Request, status: int, start: float) -> None:
    request.app[METRICS].observe(request.method, _route_name(request), status, time.perf_counter() - start)


def _http_problem(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return problem(exc.status, exc.reason, detail, instance=request.path, headers=headers)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS for portal pages embedding the API: answer preflights, tag responses."""
    origin = request.headers.get("Origin")
    if not origin:  # not a browser's cross-origin request: nothing to answer or tag
        return await handler(request)
    origins = request.app[SETTINGS].cors_origins
    allowed = origin if origin in origins or "*" in origins else None
    if request.method == "OPTIONS" and allowed and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    else:
        response = await handler(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else allowed
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
        if "*" not in origins:
            response.headers["Vary"] = "Origin"
    return response
