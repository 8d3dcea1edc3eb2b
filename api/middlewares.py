"""Cross-cutting request handling in one middleware: CORS, errors as problem+json, metrics.

One layer rather than three: aiohttp wraps each middleware around every request, a call each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from api.metrics import Metrics
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


def edge_middleware(metrics: Metrics, cors_origins: Iterable[str]) -> Middleware:
    """The app's one middleware, bound to its metrics and CORS origins (no app lookups per request).

    CORS preflights are answered; other requests are handled, errors becoming RFC 9457 problems,
    counted and timed by route template, and tagged when an allowed origin sent them. Preflights are
    not counted as requests; redirects (HTTP exceptions below 400) are counted and passed on untagged.
    """
    cors = _Cors(frozenset(cors_origins))

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = cors.allowed(origin) if origin else None
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return cors.tag(cors.preflight(), allowed)
        start = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                metrics.observe(request.method, _route_name(request), exc.status, time.perf_counter() - start)
                raise
            response = _http_problem(request, exc)
        except TravelError as err:
            response = _travel_problem(request, err)
        except Exception:
            log.exception("unhandled error", extra={"path": request.path, "method": request.method})
            response = problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged",
                               instance=request.path)
        metrics.observe(request.method, _route_name(request), response.status, time.perf_counter() - start)
        return cors.tag(response, allowed) if allowed else response

    return edge


def _http_problem(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return problem(exc.status, exc.reason, detail, instance=request.path, headers=headers)


def _travel_problem(request: web.Request, err: TravelError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after_s)} if isinstance(err, ServiceUnavailable) else None
    return problem(err.status, err.title, err.detail, instance=request.path, headers=headers,
                   param=err.param, **err.extensions)


class _Cors:
    """CORS for portal pages embedding the API: which origins may, and the headers that say so."""

    def __init__(self, origins: frozenset[str]) -> None:
        self.origins = origins
        self.wildcard = "*" in origins

    def allowed(self, origin: str) -> str | None:
        """``origin`` if it may embed the API, else None."""
        return origin if self.wildcard or origin in self.origins else None

    @staticmethod
    def preflight() -> web.StreamResponse:
        """The answer to an allowed preflight (before tagging)."""
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
        return response

    def tag(self, response: web.StreamResponse, allowed: str) -> web.StreamResponse:
        """``response`` with the CORS headers for ``allowed``."""
        response.headers["Access-Control-Allow-Origin"] = "*" if self.wildcard else allowed
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
        if not self.wildcard:
            response.headers["Vary"] = "Origin"
        return response
