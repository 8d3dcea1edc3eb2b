"""The route table: one list drives both the router and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

from api.docs import docs_page, docs_static_dir, openapi_json
from api.params import CrsQuery, QueryModel
from api.views import events, health, places, pois
from travel.models import Poi, Record, RoadEvent

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
    in_spec: bool = True


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", health.healthz, "Liveness", "operations", errors=()),
    Endpoint("GET", "/readyz", health.readyz, "Readiness: store, bus and read model", "operations", errors=(503,)),
    Endpoint("GET", "/metrics", health.metrics, "Prometheus metrics", "operations", errors=()),
    Endpoint("GET", "/openapi.json", openapi_json, "This OpenAPI document", "operations", errors=(), in_spec=False),
    Endpoint("GET", "/docs", docs_page, "Interactive API documentation", "operations", errors=(), in_spec=False),
    Endpoint("GET", "/v1/events", events.list_events, "Road events (路况)", "events",
             query=events.EventsQuery, collection_of=RoadEvent),
    Endpoint("GET", "/v1/events/{id}", events.get_event, "One road event with its version history", "events",
             query=CrsQuery, feature_of=RoadEvent, errors=(400, 404, 503)),
    Endpoint("GET", "/v1/pois", pois.list_pois, "Points of interest", "pois",
             query=pois.PoisQuery, collection_of=Poi),
    Endpoint("GET", "/v1/places", places.list_places, "Resolve a place name, code or lon,lat", "places",
             query=places.PlacesQuery, json_of=places.PlacesResponse),
)


def setup_routes(app: web.Application) -> None:
    """Register every endpoint and the docs' static files."""
    for ep in ENDPOINTS:
        path = ep.path.replace("{id}", "{id:.+}")
        app.router.add_route(ep.method, path, ep.handler)
    app.router.add_static("/docs/static/", docs_static_dir())
