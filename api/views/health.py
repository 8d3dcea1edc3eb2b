"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, NotRequired

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import Field, with_config
from typing_extensions import TypedDict

from api.keys import BUS, METRICS, READ_MODEL, STORE
from travel.core.answers import EXACT
from travel.core.errors import ServiceUnavailable

CHECK_TIMEOUT_S = 2.0


@with_config(EXACT)
class Liveness(TypedDict):
    """Body of GET /healthz."""

    status: Literal["ok"]


@with_config(EXACT)
class Check(TypedDict):
    """Whether a backend (store, bus) answered its ping."""

    ok: bool
    backend: Annotated[str, Field(description="e.g. embedded, postgis, local, redis")]
    error: NotRequired[Annotated[str, Field(description="why it is down")]]


@with_config(EXACT)
class ModelCheck(TypedDict):
    """Whether the read model has loaded, how much it holds, and whether it still follows the bus."""

    ok: bool
    records: Annotated[dict[str, int], Field(description="records held per kind")]
    following: NotRequired[Annotated[Literal[False], Field(description="present when it lost the bus")]]
    error: NotRequired[str]


@with_config(EXACT)
class Checks(TypedDict):
    """Each dependency's check."""

    store: Check
    bus: Check
    read_model: ModelCheck


@with_config(EXACT)
class Readiness(TypedDict):
    """Body of GET /readyz, 200 when every check is ok and 503 otherwise."""

    status: Literal["ready", "unavailable"]
    checks: Checks


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz — the process is alive and serving."""
    return web.json_response(Liveness(status="ok"))


async def _check(ping: Callable[[], Awaitable[None]], backend: str) -> Check:
    try:
        await asyncio.wait_for(ping(), CHECK_TIMEOUT_S)
    except ServiceUnavailable as err:
        return Check(ok=False, backend=backend, error=err.detail)
    except TimeoutError:
        return Check(ok=False, backend=backend, error=f"no answer within {CHECK_TIMEOUT_S} s")
    return Check(ok=True, backend=backend)


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz — store and bus reachable and the read model loaded; 503 names what is down."""
    store, bus, model = request.app[STORE], request.app[BUS], request.app[READ_MODEL]
    store_check, bus_check = await asyncio.gather(_check(store.ping, store.name), _check(bus.ping, bus.name))
    model_check = ModelCheck(ok=model.ready.is_set(), records=model.counts())
    if not model.bus_healthy and model.bus_error:
        model_check["following"] = False
        model_check["error"] = model.bus_error
    checks = Checks(store=store_check, bus=bus_check, read_model=model_check)
    ready = store_check["ok"] and bus_check["ok"] and model_check["ok"]
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    headers = None if ready else {"Retry-After": "5"}
    return web.json_response(body, status=200 if ready else 503, headers=headers)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics — Prometheus text exposition."""
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
