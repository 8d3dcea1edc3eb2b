"""Structured JSON logs: one object per line, extra fields included, ready for a log shipper."""

from __future__ import annotations

import logging
import math
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp.http_exceptions import HttpProcessingError

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
# Libraries that narrate routine work at INFO: apscheduler writes two lines per job run, and the staleness
# check runs every few seconds. Below DEBUG they say only warnings and errors.
CHATTY_LOGGERS = ("apscheduler",)


class JsonFormatter(logging.Formatter):
    """Format a LogRecord as one JSON line with its ``extra`` fields."""

    def __init__(self) -> None:
        super().__init__()
        self._second = math.nan
        self._date_time = ""

    def timestamp(self, created: float) -> str:
        """``created`` as ISO 8601 UTC with milliseconds; the date and time part is formatted once a second.

        Microseconds are rounded as ``datetime.fromtimestamp`` rounds them (half to even), so the text is
        exactly ``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``.
        """
        fraction, second = math.modf(created)
        micros = round(fraction * 1e6)
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        if second != self._second:
            self._second = second
            self._date_time = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._date_time}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        """Render the record."""
        entry: dict[str, Any] = {
            "ts": self.timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class MalformedRequests(logging.Filter):
    """A request aiohttp cannot parse is logged as one WARNING line with its status and error.

    aiohttp logs it (bad request line or header, headers too large) at ERROR with a traceback, though
    the client is at fault and has its 4xx already; a port scanner would fill the log with tracebacks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record when it carries a parse error; keep every record."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
            record.msg, record.args = "malformed request refused", ()
            record.status, record.error, record.remote = error.code, error.message, remote
            record.exc_info = record.exc_text = None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr at ``level``.

    Records skip the thread and process names the lines never show: the public switches of the logging
    HOWTO's "Optimization" section. (Its third, ``logging._srcfile = None`` to skip finding the calling
    frame, is private: it saved ~13k instructions an access line, callgrind, which the API benchmark's
    ratio does not show, as the bare handler it is measured against logs the same way.)
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # A propagated record meets only the handlers, not the root's level: the chatty ones get their own.
    chatty = logging.NOTSET if root.level <= logging.DEBUG else max(root.level, logging.WARNING)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequests) for f in server.filters):
        server.addFilter(MalformedRequests())
