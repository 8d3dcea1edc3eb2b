"""Structured logs: one JSON object per line with extra fields, access lines included."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from travel.logs import JsonFormatter


def test_json_lines_carry_extra_fields_and_exceptions() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("travel.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("source stale", extra={"source": "gsj", "age_s": 420})
        try:
            raise ValueError("bad feed")
        except ValueError:
            logger.exception("parse failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "source stale" and first["level"] == "warning"
    assert first["source"] == "gsj" and first["age_s"] == 420 and first["ts"].endswith("+00:00")
    assert "ValueError: bad feed" in second["exc"]


@given(st.lists(st.floats(0.0, 4e9) | st.integers(0, 4 * 10**9).map(lambda s: s + 0.9999995), max_size=20))
def test_timestamps_are_exactly_the_datetime_iso_text(times: list[float]) -> None:
    formatter = JsonFormatter()  # one formatter across many times: its per-second cache must not leak
    for created in times:
        assert formatter.timestamp(created) == datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


async def test_access_log_is_json(aiohttp_server, aiohttp_client, settings, caplog) -> None:  # noqa: ANN001
    from api.access_log import JsonAccessLogger
    from api.app import create_app

    server = await aiohttp_server(create_app(settings), access_log_class=JsonAccessLogger)
    client = await aiohttp_client(server)
    with caplog.at_level(logging.INFO, logger="travel.access"):
        await client.get("/healthz")
        for _ in range(50):  # the access line is written just after the response is sent
            if any(r.name == "travel.access" for r in caplog.records):
                break
            await asyncio.sleep(0.01)
    [line] = [r for r in caplog.records if r.name == "travel.access"]
    assert line.status == 200 and line.path == "/healthz" and line.method == "GET" and line.ms >= 0
