"""Access log lines as JSON, through the same logging pipeline as everything else."""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

log = logging.getLogger("travel.access")


class JsonAccessLogger(AbstractAccessLogger):
    """One structured line per request: method, path, status, bytes, milliseconds, client."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Emit the access line."""
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "bytes": response.body_length,
                "ms": round(time * 1000, 2),
                "remote": request.remote,
            },
        )

    @property
    def enabled(self) -> bool:
        """Skip the work entirely when INFO is off."""
        return log.isEnabledFor(logging.INFO)
