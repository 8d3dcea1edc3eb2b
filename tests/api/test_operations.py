"""Operations endpoints: liveness, readiness, metrics, OpenAPI and its docs page."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.conftest import seed
from tests.factories import event


async def test_healthz(app_client) -> None:  # noqa: ANN001
    resp = await app_client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_readyz_reports_each_part(app_client) -> None:  # noqa: ANN001
    resp = await app_client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200, body
    assert body["checks"]["store"] == {"ok": True, "backend": "embedded"}
    assert body["checks"]["bus"] == {"ok": True, "backend": "in-process"}
    assert body["checks"]["read_model"]["ok"] is True


async def test_metrics_count_requests_and_records(app_client) -> None:  # noqa: ANN001
    await seed(app_client.server.app, [event("1"), event("2")])
    await app_client.get("/v1/events")
    await app_client.get("/v1/events", params={"bogus": "1"})
    text = await (await app_client.get("/metrics")).text()
    assert 'travel_http_requests_total{method="GET",route="/v1/events",status="200"} 1.0' in text
    assert 'travel_http_requests_total{method="GET",route="/v1/events",status="400"} 1.0' in text
    assert 'travel_records{kind="event"} 2.0' in text
    assert 'travel_http_request_duration_seconds_count{route="/v1/events"} 2.0' in text
    assert 'travel_http_request_duration_seconds_bucket{le="+Inf",route="/v1/events"} 2.0' in text


async def test_openapi_is_valid_3_1_and_documents_every_filter(app_client) -> None:  # noqa: ANN001
    spec = await (await app_client.get("/openapi.json")).json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    names = {p["name"] for p in spec["paths"]["/v1/events"]["get"]["parameters"]}
    assert {"bbox", "near", "radius_m", "road", "type", "severity", "active", "since", "source", "crs"} <= names
    pois = {p["name"] for p in spec["paths"]["/v1/pois"]["get"]["parameters"]}
    assert {"kind", "near", "radius_m", "bbox", "road", "q"} <= pois
    listed = spec["components"]["schemas"]["RoadEventListedProperties"]
    assert {"kind", "active", "stake_range", "distance_m", "road", "severity"} <= set(listed["properties"])
    assert listed["additionalProperties"] is False
    assert "Problem" in spec["components"]["schemas"]
    places_ok = spec["paths"]["/v1/places"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert places_ok == {"$ref": "#/components/schemas/PlacesResponse"}
    assert "candidates" in spec["components"]["schemas"]["PlacesResponse"]["properties"]


async def test_docs_page_is_served_from_bundled_files(app_client) -> None:  # noqa: ANN001
    page = await app_client.get("/docs")
    html = await page.text()
    assert page.status == 200 and "/openapi.json" in html and "http" not in html.split("<body>")[1]
    script = await app_client.get("/docs/static/swagger-ui-bundle.js")
    assert script.status == 200 and len(await script.read()) > 100_000
    style = await app_client.get("/docs/static/swagger-ui.css")
    assert style.status == 200 and style.content_type == "text/css" and len(await style.read()) > 10_000
    for outside in ("/docs/static/..%2F..%2F__init__.py", "/docs/static/nothing.js"):
        missing = await app_client.get(outside)
        assert missing.status == 404 and missing.headers["Content-Type"].startswith("application/problem+json")


async def test_unmatched_requests_are_problems_counted_apart(app_client) -> None:  # noqa: ANN001
    wrong = await app_client.post("/v1/events/x1")
    assert wrong.status == 405 and wrong.headers["Allow"] == "GET,HEAD"
    assert (await wrong.json(content_type=None))["status"] == 405
    on_stream = await app_client.post("/v1/stream")
    assert on_stream.status == 405 and on_stream.headers["Allow"] == "GET"  # no HEAD on a live stream
    unknown = await app_client.get("/nothing/here", headers={"Origin": "https://www.hncd.gov.cn"})
    assert unknown.status == 404 and unknown.headers["Access-Control-Allow-Origin"] == "*"
    assert (await unknown.json(content_type=None))["instance"] == "/nothing/here"
    preflight = await app_client.options("/anything", headers={
        "Origin": "https://www.hncd.gov.cn", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]
    text = await (await app_client.get("/metrics")).text()
    assert 'travel_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'travel_http_requests_total{method="POST",route="unmatched",status="405"} 2.0' in text
    assert 'method="OPTIONS"' not in text  # preflights are not requests
