"""Structured logs: one JSON object per line with extra fields, access lines included."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travel.core.logs import JsonFormatter


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


@pytest.fixture
def configure(capsys) -> Iterator[Callable[[str], None]]:  # noqa: ANN001
    """``travel.core.logs.configure_logging``, with the logging set-up it changes put back afterwards.

    It takes ``capsys`` so that the handler it makes writes to the stream ``capsys`` captures.
    """
    from travel.core.logs import CHATTY_LOGGERS, MalformedRequests, configure_logging

    root, server = logging.getLogger(), logging.getLogger("aiohttp.server")
    saved = root.handlers[:], root.level, [logging.getLogger(name).level for name in CHATTY_LOGGERS]
    yield configure_logging
    root.handlers[:], level, chatty = saved
    root.setLevel(level)
    for name, chatty_level in zip(CHATTY_LOGGERS, chatty, strict=True):
        logging.getLogger(name).setLevel(chatty_level)
    for added in [f for f in server.filters if isinstance(f, MalformedRequests)]:
        server.removeFilter(added)


def test_scheduler_runs_are_not_logged_below_debug(configure, capsys) -> None:  # noqa: ANN001
    configure("INFO")
    scheduler = logging.getLogger("apscheduler.executors.default")
    scheduler.info("Running job")
    scheduler.warning("Run time of job was missed")
    logging.getLogger("travel.test-chatty").info("read model loaded")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["msg"] for line in lines] == ["Run time of job was missed", "read model loaded"]

    configure("ERROR")  # a quieter root keeps the scheduler's warnings out too
    scheduler.warning("Run time of job was missed")
    assert capsys.readouterr().err == ""

    configure("DEBUG")
    scheduler.info("Running job")
    assert [json.loads(line)["msg"] for line in capsys.readouterr().err.splitlines()] == ["Running job"]


async def test_a_malformed_request_is_one_warning_line_without_traceback(  # noqa: ANN001
        configure, aiohttp_server, settings, capsys) -> None:
    from api.app import create_app

    configure("INFO")
    server = await aiohttp_server(create_app(settings))
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad\x01Name: y\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"400"
    for _ in range(50):
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        refused = [line for line in lines if line["logger"] == "aiohttp.server"]
        if refused:
            break
        await asyncio.sleep(0.01)
    [line] = refused
    assert line["level"] == "warning" and line["msg"] == "malformed request refused"
    assert line["status"] == 400 and line["error"] and line["remote"] == "127.0.0.1" and "exc" not in line
    logging.getLogger("aiohttp.server").error("Error handling request", exc_info=ValueError("a bug"))
    [bug] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert bug["level"] == "error" and "ValueError: a bug" in bug["exc"]  # anything else is left as it is


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_records_keep_their_caller_but_lines_leave_it_out(configure, capsys) -> None:  # noqa: ANN001
    """Only public switches are turned: records still find their calling frame; the JSON line omits it."""
    configure("INFO")
    logger, kept = logging.getLogger("travel.test-caller"), _Kept()
    logger.addHandler(kept)
    try:
        logger.info("located")
    finally:
        logger.removeHandler(kept)
    [record] = kept.records
    assert record.funcName == "test_records_keep_their_caller_but_lines_leave_it_out"
    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert line["msg"] == "located" and not {"funcName", "lineno", "pathname", "threadName"} & line.keys()
