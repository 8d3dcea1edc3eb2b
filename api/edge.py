"""What every request shares: CORS, errors as RFC 9457 problems, metrics, wrapped around each route.

Each handler is wrapped once, at start-up, rather than run through an aiohttp middleware: with no
middleware aiohttp calls the handler directly, and the route's label is known when wrapping instead
of being looked up per request. What the router cannot match (unknown paths, wrong methods, CORS
preflights) reaches ``Edge.fallback``, registered last for every path and method, which answers
with the same problems (405 with ``Allow``) a middleware would have.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import hdrs, web

from api.metrics import Metrics
from api.problems import problem
from travel.core.errors import ServiceUnavailable, TravelError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, If-None-Match, Last-Event-ID, X-API-Key, X-Signature, X-Timestamp"
CORS_EXPOSE = "ETag, Retry-After, Link"
UNMATCHED = "unmatched"  # the metrics label of requests no route matched (bounded cardinality)


class Edge:
    """The service's edge, bound to its metrics and CORS origins (no app lookups per request).

    Requests are handled, errors becoming problems, counted and timed by route template, and tagged
    when an allowed origin sent them. Preflights are answered and not counted as requests; redirects
    (HTTP exceptions below 400) are counted and passed on untagged.
    """

    def __init__(self, metrics: Metrics, cors_origins: Iterable[str]) -> None:
        self.metrics = metrics
        self.cors = _Cors(frozenset(cors_origins))

    def wrap(self, handler: Handler, route: str) -> Handler:
        """``handler`` with CORS, problems and metrics, counted under ``route`` (its template)."""
        observe, cors = self.metrics.observe, self.cors

        async def edge(request: web.Request) -> web.StreamResponse:
            start = time.perf_counter()
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    observe(request.method, route, exc.status, time.perf_counter() - start)
                    raise
                response = _http_problem(request, exc)
            except TravelError as err:
                response = _travel_problem(request, err)
            except Exception:
                log.exception("unhandled error", extra={"path": request.path, "method": request.method})
                response = problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged",
                                   instance=request.path)
            observe(request.method, route, response.status, time.perf_counter() - start)
            origin = request.headers.get(hdrs.ORIGIN)
            allowed = cors.allowed(origin) if origin else None
            return cors.tag(response, allowed) if allowed else response

        return edge

    def fallback(self) -> Handler:
        """The handler of whatever no route matched: CORS preflights, then 405 or 404 problems."""
        cors = self.cors

        async def refuse(request: web.Request) -> web.StreamResponse:
            methods = await _allowed_methods(request)
            if methods:
                raise web.HTTPMethodNotAllowed(request.method, methods)
            raise web.HTTPNotFound()

        refused = self.wrap(refuse, UNMATCHED)

        async def unmatched(request: web.Request) -> web.StreamResponse:
            origin = request.headers.get(hdrs.ORIGIN)
            allowed = cors.allowed(origin) if origin else None
            preflight = request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
            if allowed and preflight:
                return cors.tag(cors.preflight(), allowed)
            return await refused(request)

        return unmatched


async def _allowed_methods(request: web.Request) -> set[str]:
    """The methods other routes accept for this path (empty: the path is unknown)."""
    methods: set[str] = set()
    for resource in request.app.router.resources():
        if resource is request.match_info.route.resource:
            continue
        match, allowed = await resource.resolve(request)
        if match is None:
            methods |= allowed
    return methods


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
