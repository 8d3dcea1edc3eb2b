"""Real answers, validated strictly against their declarations (unknown keys refused), one per kind of answer.

schemathesis checks the same answers against the OpenAPI document generated from these declarations
(test_openapi_conformance); here each kind is asked for in the ways that change its shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter, ValidationError

from api.app import create_app
from api.features import collection_of, with_history_of
from api.keys import FEEDS
from api.views.health import Liveness, Readiness
from api.views.places import PlacesResponse
from api.views.sources import IngestResponse, SourcesResponse
from api.views.stream import StreamEvent
from api.views.tolls import ClassifyResponse, NoticesResponse
from tests.api.live import XUCHANG, fill
from tests.conftest import seed, wait_ready
from tests.factories import event
from tests.ingest.test_feeds_live import read_events
from travel.core.records import Alert, Kind, Poi, RoadEvent, SourceConfig
from travel.core.settings import Settings
from travel.ingest.signing import signed_headers
from travel.routing.answer import RoutesOut
from travel.tolls.answer import QuoteOut

SECRET = b"answers-secret"
CAP = (Path(__file__).parents[1] / "feeds" / "fixtures" / "cap" / "zhengzhou_fog_yellow.xml").read_bytes()
AT = "2026-11-24T09:00:00%2B08:00"
NEAR = f"near={XUCHANG[0]},{XUCHANG[1]}&radius_m=30000"
ANSWERS: list[tuple[str, Any]] = [
    ("/healthz", Liveness),
    ("/readyz", Readiness),
    ("/v1/events?active=all", collection_of(RoadEvent)),
    (f"/v1/events?active=all&{NEAR}", collection_of(RoadEvent)),
    ("/v1/events?active=all&crs=gcj02", collection_of(RoadEvent)),
    ("/v1/events/gsj:works", with_history_of(RoadEvent)),
    ("/v1/events/gsj:cleared?crs=bd09", with_history_of(RoadEvent)),
    ("/v1/alerts?active=all", collection_of(Alert)),
    (f"/v1/alerts?{NEAR}", collection_of(Alert)),
    ("/v1/alerts/cma:fog", with_history_of(Alert)),
    ("/v1/pois?limit=50", collection_of(Poi)),
    (f"/v1/pois?{NEAR}&kind=service_area,toll_station", collection_of(Poi)),
    ("/v1/places?q=许昌", PlacesResponse),
    ("/v1/places?q=113.85,34.03&crs=gcj02", PlacesResponse),
    ("/v1/tolls/classify?kind=truck&axles=3", ClassifyResponse),
    ("/v1/tolls/classify?kind=passenger&seats=7", ClassifyResponse),
    (f"/v1/tolls/quote?from=郑州&to=洛阳&at={AT}", QuoteOut),
    (f"/v1/tolls/quote?from=郑州北收费站&to=许昌收费站&vehicle_class=13&payment=cash&geometry=true&at={AT}",
     QuoteOut),
    ("/v1/tolls/notices?state=all", NoticesResponse),
    (f"/v1/routes?from=郑州&to=洛阳&alternatives=2&depart_at={AT}", RoutesOut),
    (f"/v1/routes?from=许昌&to=郑州&via=长葛服务区&vehicle_class=13&crs=gcj02&depart_at={AT}", RoutesOut),
    ("/v1/sources", SourcesResponse),
]


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path / "data", load_geodata=True))
    app[FEEDS].sources.extend([SourceConfig(id="cap-push", agency="河南省气象台", format="cap", push=True,
                                            secret=SECRET.decode(), kinds=[Kind.ALERT])])
    c = await aiohttp_client(app)
    await wait_ready(app, timeout=60.0)
    await fill(app)
    return c


def strictly(declaration: Any, body: bytes) -> Any:
    """``body`` validated against ``declaration`` in strict mode (extra keys are forbidden by the declarations)."""
    return TypeAdapter(declaration).validate_json(body, strict=True)


@pytest.mark.parametrize(("path", "declaration"), ANSWERS, ids=[path for path, _ in ANSWERS])
async def test_the_answer_is_its_declaration(client: TestClient, path: str, declaration: Any) -> None:
    response = await client.get(path)
    body = await response.read()
    assert response.status == 200, body
    answer = strictly(declaration, body)
    assert answer.get("features", True) if isinstance(answer, dict) else answer, "nothing to check"


async def test_a_pushed_document_is_answered_as_declared(client: TestClient) -> None:
    response = await client.post("/v1/ingest/cap-push", data=CAP, headers={
        "Content-Type": "application/cap+xml", **signed_headers(SECRET, CAP)})
    assert response.status == 202
    assert strictly(IngestResponse, await response.read())["created"] == 1


async def test_stream_events_are_as_declared(client: TestClient) -> None:
    stream = await client.get("/v1/stream")
    await seed(client.server.app, [event("new", start_stake_m=700_000.0), event("works", version=2)])
    changes = await read_events(stream, 2)
    stream.close()
    gone = await client.get("/v1/stream", headers={"Last-Event-ID": "999999"})
    reset = await read_events(gone, 1)
    gone.close()
    assert [name for _, name, _ in changes + reset] == ["change", "change", "reset"]
    for _, _, data in changes + reset:
        strictly(StreamEvent, json.dumps(data).encode())


async def test_a_key_the_declaration_does_not_name_is_refused(client: TestClient) -> None:
    body = await (await client.get("/v1/events?active=all")).json(content_type=None)
    body["features"][0]["properties"]["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        strictly(collection_of(RoadEvent), json.dumps(body).encode())
