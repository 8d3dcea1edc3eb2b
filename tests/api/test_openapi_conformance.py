"""schemathesis against a live server on each backend: no 5xx, and every answer matches /openapi.json."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from api.app import create_app
from tests.api.live import fill, settings_of
from tests.conftest import wait_ready

MAX_EXAMPLES = 25  # per operation and phase: each backend's run takes seconds, not minutes
RUN_LIMIT_S = 150  # a hang guard for the whole run, not a timing assertion
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture(params=["embedded", "postgis"])
async def server(request: pytest.FixtureRequest, aiohttp_server, tmp_path: Path) -> AsyncIterator[TestServer]:  # noqa: ANN001
    """A server on a loopback port with the bundled geodata and seeded events and alerts, on each backend."""
    async with settings_of(request.param, tmp_path) as settings:
        app = create_app(settings)
        served = await aiohttp_server(app)
        await wait_ready(app, timeout=60.0)
        await fill(app)
        yield served
        await served.close()


@pytest.mark.timeout(RUN_LIMIT_S + 60)
async def test_every_operation_answers_as_documented(server: TestServer, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st), "run", str(server.make_url("/openapi.json")), "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES), "--seed", "16", "--workers", "1", "--no-color",
        "--exclude-path", "/v1/stream",  # an endless event stream; its events are checked in test_answers
        "--request-timeout", "20", "--report-dir", str(tmp_path / "report"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_LIMIT_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()


FOUND = [  # what schemathesis once answered with a 500, each now a problem of the request
    ("/v1/events/%00", 404, None),  # PostgreSQL cannot even hold a NUL: no record has such an id
    ("/v1/alerts/cma:%00", 404, None),
    ("/v1/routes?from=郑州&to=洛阳&depart_at=9999-12-31T23:59:59Z", 400, "depart_at"),  # would arrive past 9999
    ("/v1/tolls/quote?from=郑州&to=洛阳&at=9999-12-31T23:59:59Z", 400, "at"),
]


async def test_what_schemathesis_found_is_a_problem_of_the_request(server: TestServer, aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(server)
    for path, status, param in FOUND:
        response = await client.get(path)
        problem = await response.json(content_type="application/problem+json")
        assert (response.status, problem.get("param")) == (status, param), problem
