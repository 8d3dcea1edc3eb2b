"""POST /v1/ingest/{source}: signed, replay-proof, 202 only once durable, and bad input changes nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import FEEDS, READ_MODEL, STORE
from tests.conftest import wait_ready
from travel.core.records import Kind, SourceConfig
from travel.core.settings import Settings
from travel.ingest.signing import REPLAY_WINDOW_S, signed_headers
from travel.ingest.sources import Sources

FIXTURES = Path(__file__).parents[1] / "feeds" / "fixtures"
SECRET = b"s3cret-for-tests"
YELLOW = (FIXTURES / "cap" / "zhengzhou_fog_yellow.xml").read_bytes()


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path, load_geodata=False, max_body_bytes=64 * 1024))
    app[FEEDS].sources.extend([
        SourceConfig(id="hn-weather-push", agency="河南省气象台", format="cap", push=True,
                     secret=SECRET.decode(), kinds=[Kind.ALERT]),
        SourceConfig(id="no-secret", agency="某单位", format="cap", push=True),
        SourceConfig(id="polled", agency="某单位", format="cap", url="http://127.0.0.1:9/cap.xml",
                     poll_interval_s=3600),
    ])
    c = await aiohttp_client(app)
    await wait_ready(app)
    return c


async def push(client: TestClient, body: bytes, source: str = "hn-weather-push", **headers: str):  # noqa: ANN201
    return await client.post(f"/v1/ingest/{source}", data=body,
                             headers={"Content-Type": "application/cap+xml", **headers})


async def test_a_signed_push_is_durable_when_answered(client: TestClient) -> None:
    response = await push(client, YELLOW, **signed_headers(SECRET, YELLOW))
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["created"] == 1 and body["rejected"] == 0
    stored = await client.app[STORE].get(Kind.ALERT, "hn-weather-push:41010041600000_20260112063000")
    assert stored is not None and stored.colour == "yellow"
    health = client.app[FEEDS].health.get("hn-weather-push")
    assert health.documents == 1 and health.consecutive_failures == 0


async def test_the_same_push_twice_is_refused_and_a_resigned_duplicate_is_a_no_op(client: TestClient) -> None:
    headers = signed_headers(SECRET, YELLOW)
    assert (await push(client, YELLOW, **headers)).status == 202
    replay = await push(client, YELLOW, **headers)
    assert replay.status == 409
    assert "already received" in (await replay.json())["detail"]
    again = await push(client, YELLOW, **signed_headers(SECRET, YELLOW, now=time.time() + 1))
    assert again.status == 202 and (await again.json())["unchanged"] == 1


@pytest.mark.parametrize(("headers", "words"), [
    ({}, "needs the X-Timestamp and X-Signature"),
    ({"X-Timestamp": "yesterday", "X-Signature": "sha256=00"}, "Unix seconds"),
    ({"X-Timestamp": str(int(time.time())), "X-Signature": "sha256=" + "0" * 64}, "does not match"),
])
async def test_unsigned_or_badly_signed_pushes_are_401(client: TestClient, headers: dict[str, str],
                                                      words: str) -> None:
    response = await push(client, YELLOW, **headers)
    assert response.status == 401 and response.content_type == "application/problem+json"
    assert words in (await response.json())["detail"]
    assert await client.app[STORE].counts() == {}


async def test_a_push_signed_outside_the_window_is_refused(client: TestClient) -> None:
    old = signed_headers(SECRET, YELLOW, now=time.time() - REPLAY_WINDOW_S - 60)
    response = await push(client, YELLOW, **old)
    assert response.status == 401 and "window" in (await response.json())["detail"]


async def test_a_body_signed_with_another_secret_is_refused(client: TestClient) -> None:
    response = await push(client, YELLOW, **signed_headers(b"not the secret", YELLOW))
    assert response.status == 401


@pytest.mark.parametrize("source", ["unknown", "polled"])
async def test_only_configured_push_sources_take_pushes(client: TestClient, source: str) -> None:
    response = await push(client, YELLOW, source=source, **signed_headers(SECRET, YELLOW))
    assert response.status == 404


async def test_a_push_source_without_a_secret_refuses_everything(client: TestClient) -> None:
    response = await push(client, YELLOW, source="no-secret", **signed_headers(SECRET, YELLOW))
    assert response.status == 400 and "no secret" in (await response.json())["detail"]


@pytest.mark.parametrize(("body", "words"), [
    (YELLOW[: len(YELLOW) // 2], "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
     b"<alert>&lol2;</alert>", "DTD or entities"),
    (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert>&x;</alert>', "DTD or entities"),
    (YELLOW.decode().replace('encoding="UTF-8"', 'encoding="UTF-8"').encode("gbk"), "GBK"),
    (b"<html><body>not CAP</body></html>", "root element"),
])
async def test_a_bad_document_is_422_and_changes_nothing(client: TestClient, body: bytes, words: str) -> None:
    assert (await push(client, YELLOW, **signed_headers(SECRET, YELLOW))).status == 202
    before = await client.app[STORE].counts()
    response = await push(client, body, **signed_headers(SECRET, body))
    assert response.status == 422, await response.text()
    assert words in (await response.json())["detail"]
    assert await client.app[STORE].counts() == before
    assert client.app[FEEDS].health.get("hn-weather-push").consecutive_failures == 1


async def test_an_oversized_body_is_413(client: TestClient) -> None:
    body = b"<alert>" + b" " * (70 * 1024) + b"</alert>"
    response = await push(client, body, **signed_headers(SECRET, body))
    assert response.status == 413 and response.content_type == "application/problem+json"
    assert await client.app[STORE].counts() == {}


async def test_pushed_records_reach_the_read_model(client: TestClient) -> None:
    await push(client, YELLOW, **signed_headers(SECRET, YELLOW))
    view = client.app[READ_MODEL].view(Kind.ALERT)
    for _ in range(100):
        if view.records:
            break
        await asyncio.sleep(0.01)
    assert list(view.records) == ["hn-weather-push:41010041600000_20260112063000"]


def test_sources_refuse_an_unknown_format() -> None:
    from travel.core.errors import InvalidRecord

    with pytest.raises(InvalidRecord, match="unknown format 'rss'"):
        Sources([SourceConfig(id="x", agency="a", format="rss", push=True)])
