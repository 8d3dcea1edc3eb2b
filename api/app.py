"""The application factory and its resources, one cleanup context each, in dependency order."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import suppress
from typing import Any

from aiohttp import web

from api.edge import Edge
from api.geojson import Features
from api.keys import (
    BUS,
    FEATURES,
    FEEDS,
    METRICS,
    PLACES,
    PLANNER,
    READ_MODEL,
    ROAD_NETWORK,
    SETTINGS,
    STORE,
    TOLL_BOOKS,
)
from api.metrics import Metrics
from api.routes import setup_routes
from travel.core.errors import ServiceUnavailable
from travel.core.records import SourceConfig
from travel.core.settings import Settings
from travel.ingest.importer import load_bundle_if_empty
from travel.ingest.runtime import Feeds
from travel.ingest.sources import Sources, load_sources
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel, follow
from travel.routing.network_holder import NetworkHolder
from travel.routing.planner import Planner
from travel.store import make_store
from travel.store.base import Store
from travel.store.bus import ChangeBus, make_bus
from travel.tolls.book import TollBooks

log = logging.getLogger(__name__)

STORE_OPEN = web.AppKey("store_open", asyncio.Event)
MAX_RETRY_S = 15.0


async def _open_store(app: web.Application) -> None:
    """Open the store, retrying until it answers, then load the bundled data if it is empty."""
    store, delay = app[STORE], 0.5
    while True:
        try:
            await _finished_even_if_cancelled(store.open())
            break
        except ServiceUnavailable as err:
            log.warning("store unavailable at start-up, retrying", extra={"error": err.detail, "retry_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)
    if app[SETTINGS].load_geodata:
        await load_bundle_if_empty(store, app[BUS])
    app[STORE_OPEN].set()


async def _finished_even_if_cancelled(step: Coroutine[Any, Any, None]) -> None:
    """Run ``step`` to its end even when the caller is cancelled, then pass the cancellation on.

    Opening a store half-way and abandoning it leaks its connections (an embedded store's worker
    threads outlive the event loop); finishing first lets the shutdown that cancelled us close it.
    """
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with suppress(Exception):
            await task
        raise


async def _background(task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the change bus (first: opening the store may publish the bundle's records)."""
    await app[BUS].start()
    yield
    await app[BUS].stop()


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the store in the background so the API serves (and /readyz explains) while it is down."""
    app[STORE_OPEN] = asyncio.Event()
    opener = asyncio.create_task(_open_store(app))
    yield
    await _background(opener)
    await app[STORE].close()


async def read_model_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the read model once the store is open and follow the bus; freeze the heap once it is loaded."""

    async def run() -> None:
        await app[STORE_OPEN].wait()
        await follow(app[READ_MODEL], app[STORE], app[BUS])

    async def settle() -> None:
        await app[READ_MODEL].ready.wait()
        freeze_loaded_heap()

    tasks = [asyncio.create_task(run()), asyncio.create_task(settle())]
    yield
    await app[READ_MODEL].hub.close()
    for task in tasks:
        await _background(task)


def freeze_loaded_heap() -> None:
    """Leave what start-up built, the loaded read model above all, out of the cyclic GC's full collections.

    A full collection traverses every tracked object: ~230,000 with 7,000 records loaded, ~130 ms on
    a small VM, while every request in flight waits (at 64 connections, the p99 of a loaded server).
    Garbage is collected first; frozen objects are still freed by reference counting when dropped,
    and the read model holds no reference cycles (``tests/test_readmodel.py`` checks), so nothing it
    replaces is kept. Objects made later are collected as usual.
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info("heap frozen after loading", extra={"objects": gc.get_freeze_count(),
                                                 "ms": round((time.perf_counter() - started) * 1000, 1)})


async def feeds_ctx(app: web.Application) -> AsyncIterator[None]:
    """Poll the configured sources once the read model is ready (links need the network)."""
    feeds = app[FEEDS]

    async def run() -> None:
        await app[READ_MODEL].ready.wait()
        feeds.start()

    task = asyncio.create_task(run())
    yield
    await _background(task)
    await feeds.stop()


async def _end_streams(app: web.Application) -> None:
    """End live streams first, so shutdown does not wait for their next heartbeat."""
    await app[READ_MODEL].hub.close()


def _sources(settings: Settings, extra: Sequence[SourceConfig]) -> Sources:
    sources = load_sources(settings.sources_file) if settings.sources_file else Sources([])
    sources.extend(list(extra))
    return sources


def create_app(settings: Settings, *, store: Store | None = None, bus: ChangeBus | None = None,
               extra_sources: Sequence[SourceConfig] = ()) -> web.Application:
    """The aiohttp application for ``settings`` (store and bus may be injected by tests).

    ``extra_sources`` are polled besides the sources file's: the demo's simulator feeds, for one.
    """
    metrics = Metrics()
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[STORE] = store if store is not None else make_store(settings)
    app[BUS] = bus if bus is not None else make_bus(settings.redis_url, settings.redis_stream)
    app[READ_MODEL] = ReadModel()
    # What answers places, quotes and routes: each follows the read model by itself, none starts or stops.
    app[PLACES] = PlaceResolver(app[READ_MODEL])
    app[TOLL_BOOKS] = TollBooks(app[READ_MODEL], app[PLACES])
    app[ROAD_NETWORK] = NetworkHolder(app[READ_MODEL])
    app[PLANNER] = Planner(app[READ_MODEL], app[ROAD_NETWORK], app[TOLL_BOOKS], app[PLACES])
    app[FEATURES] = Features(settings.zone)  # records as features, their times in the service's zone
    app[METRICS] = metrics
    app[METRICS].watch_records(app[READ_MODEL].counts)
    app[FEEDS] = Feeds(settings, app[STORE], app[BUS], app[READ_MODEL], _sources(settings, extra_sources),
                        app[METRICS].count_poll)
    app[METRICS].watch_sources(app[FEEDS].stale.ages)
    app.cleanup_ctx.extend([bus_ctx, store_ctx, read_model_ctx, feeds_ctx])
    app.on_shutdown.append(_end_streams)
    setup_routes(app, Edge(metrics, settings.cors_origins))
    return app
