"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from api.keys import BUS, METRICS, READ_MODEL, STORE
from travel.core.errors import ServiceUnavailable

CHECK_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz — the process is alive and serving."""
    return web.json_response({"status": "ok"})


async def _check(ping: Callable[[], Awaitable[None]], backend: str) -> dict[str, Any]:
    try:
        await asyncio.wait_for(ping(), CHECK_TIMEOUT_S)
    except ServiceUnavailable as err:
        return {"ok": False, "backend": backend, "error": err.detail}
    except TimeoutError:
        return {"ok": False, "backend": backend, "error": f"no answer within {CHECK_TIMEOUT_S} s"}
    return {"ok": True, "backend": backend}


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz — store and bus reachable and the read model loaded; 503 names what is down."""
    store, bus, model = request.app[STORE], request.app[BUS], request.app[READ_MODEL]
    store_check, bus_check = await asyncio.gather(_check(store.ping, store.name), _check(bus.ping, bus.name))
    model_check: dict[str, Any] = {"ok": model.ready.is_set(), "records": model.counts()}
    if not model.bus_healthy and model.bus_error:
        model_check["following"] = False
        model_check["error"] = model.bus_error
    checks = {"store": store_check, "bus": bus_check, "read_model": model_check}
    ready = all(c["ok"] for c in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    headers = None if ready else {"Retry-After": "5"}
    return web.json_response(body, status=200 if ready else 503, headers=headers)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics — Prometheus text exposition."""
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
