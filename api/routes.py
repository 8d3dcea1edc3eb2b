"""The route table: one list drives both the router and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from api.docs import docs_page, docs_static, docs_static_dir, openapi_json
from api.edge import Edge
from api.endpoint import EVENT_STREAM, GEOJSON, Endpoint
from api.features import collection_of, with_history_of
from api.params import CrsQuery
from api.views import alerts, events, health, places, pois, routes, sources, stream, tolls
from travel.core.records import Alert, Poi, RoadEvent
from travel.routing.answer import RoutesOut
from travel.tolls.answer import QuoteOut

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/healthz", health.healthz,
             summary="Liveness", tag="operations", answer=health.Liveness, errors=()),
    Endpoint("GET", "/readyz", health.readyz, summary="Readiness: store, bus and read model (503 names what is down)",
             tag="operations", answer=health.Readiness, statuses=(200, 503), errors=()),
    Endpoint("GET", "/metrics", health.metrics, summary="Prometheus metrics", tag="operations", errors=()),
    Endpoint("GET", "/v1/events", events.list_events, summary="Road events (路况)", tag="events",
             query=events.EventsQuery, answer=collection_of(RoadEvent), media=GEOJSON, revalidated=True),
    Endpoint("GET", "/v1/events/{id}", events.get_event,
             summary="One road event with its version history", tag="events",
             query=CrsQuery, answer=with_history_of(RoadEvent), media=GEOJSON, errors=(400, 404, 503)),
    Endpoint("GET", "/v1/alerts", alerts.list_alerts, summary="Weather-emergency alerts (预警)", tag="alerts",
             query=alerts.AlertsQuery, answer=collection_of(Alert), media=GEOJSON, revalidated=True),
    Endpoint("GET", "/v1/alerts/{id}", alerts.get_alert, summary="One alert with its version history", tag="alerts",
             query=CrsQuery, answer=with_history_of(Alert), media=GEOJSON, errors=(400, 404, 503)),
    Endpoint("GET", "/v1/pois", pois.list_pois, summary="Points of interest", tag="pois",
             query=pois.PoisQuery, answer=collection_of(Poi), media=GEOJSON, revalidated=True),
    Endpoint("GET", "/v1/places", places.list_places, summary="Resolve a place name, code or lon,lat", tag="places",
             query=places.PlacesQuery, answer=places.PlacesResponse, revalidated=True),
    Endpoint("GET", "/v1/tolls/classify", tolls.classify_vehicle,
             summary="JT/T 489-2019 class of a vehicle, with the rule",
             tag="tolls", query=tolls.ClassifyQuery, answer=tolls.ClassifyResponse),
    Endpoint("GET", "/v1/tolls/quote", tolls.quote_toll,
             summary="Toll between two places for a vehicle class", tag="tolls",
             query=tolls.QuoteQuery, answer=QuoteOut, errors=(400, 422, 503)),
    Endpoint("GET", "/v1/tolls/notices", tolls.list_notices, summary="Toll-free and discount notices (免收通行费公告)",
             tag="tolls", query=tolls.NoticesQuery, answer=tolls.NoticesResponse, errors=(400, 503)),
    Endpoint("GET", "/v1/routes", routes.plan_routes,
             summary="Routes around live closures, with tolls and what is on them",
             tag="routes", query=routes.RoutesQuery, answer=RoutesOut, errors=(400, 422, 503)),
    Endpoint("GET", "/v1/sources", sources.list_sources, summary="Health of every configured source", tag="feeds",
             answer=sources.SourcesResponse, errors=()),
    Endpoint("POST", "/v1/ingest/{source}", sources.ingest, summary="Push a signed feed document (202 once durable)",
             tag="feeds", answer=sources.IngestResponse, statuses=(202,), errors=(400, 401, 404, 409, 413, 422, 503),
             request_body="one document in the source's format, signed: X-Timestamp (Unix seconds) and "
                          "X-Signature: sha256=HMAC-SHA256(secret, timestamp + '.' + body) in hex"),
    Endpoint("GET", "/v1/stream", stream.stream, summary="Server-Sent Events of every change", tag="feeds",
             query=stream.StreamQuery, answer=stream.StreamEvent, media=EVENT_STREAM),
)


def setup_routes(app: web.Application, edge: Edge) -> None:
    """Register every endpoint and the docs' static files behind ``edge``, then its fallback for the rest."""
    documentation = (
        Endpoint("GET", "/openapi.json", openapi_json(ENDPOINTS),
                 summary="This OpenAPI document", tag="operations", errors=()),
        Endpoint("GET", "/docs", docs_page, summary="Interactive API documentation", tag="operations", errors=()),
    )
    for ep in ENDPOINTS + documentation:
        path = ep.path.replace("{id}", "{id:.+}")
        handler = edge.wrap(ep.handler, ep.path)
        app.router.add_route(ep.method, path, handler)
        if ep.method == "GET" and ep.media != EVENT_STREAM:
            # HTTP requires HEAD wherever GET is served (RFC 9110 §9.3.2): the same headers, no body.
            app.router.add_route("HEAD", path, handler)
    static = "/docs/static/{name}"
    app.router.add_get(static, edge.wrap(docs_static(docs_static_dir()), static))
    app.router.add_route("*", "/{path:.*}", edge.fallback())
