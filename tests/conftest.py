"""Shared fixtures: settings, a running app over loopback, and helpers to seed it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from aiohttp import web

from api.app import create_app
from api.keys import BUS, READ_MODEL, STORE
from tests.services import opened, postgis_database
from travel.core.records import Record
from travel.core.settings import Settings
from travel.ingest.commit import commit
from travel.store.base import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded store in a temporary dir; no bundled geodata unless a test asks for it."""
    return Settings(data_dir=tmp_path / "data", load_geodata=False)


async def wait_ready(app: web.Application, timeout: float = 10.0) -> None:
    """Wait until the app's read model has loaded."""
    await asyncio.wait_for(app[READ_MODEL].ready.wait(), timeout)


async def seed(app: web.Application, records: Sequence[Record], timeout: float = 5.0) -> None:
    """Commit records through the app's store and bus and wait until its read model shows them."""
    await wait_ready(app)
    await commit(app[STORE], app[BUS], records)
    model = app[READ_MODEL]

    async def applied() -> None:
        while not all(
            (held := model.view(r.kind).records.get(r.id)) is not None and held.version >= r.version for r in records
        ):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(applied(), timeout)


@pytest.fixture
async def app_client(aiohttp_client, settings: Settings):  # noqa: ANN001, ANN201 - pytest-aiohttp fixture types
    """A test client over loopback for an app on the embedded store, read model loaded."""
    app = create_app(settings)
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


@pytest.fixture(params=["embedded", "postgis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend (the contract suite and importer tests run on both)."""
    if request.param == "embedded":
        from travel.store.embedded import EmbeddedStore

        async with opened(EmbeddedStore(tmp_path / "travel.sqlite3")) as embedded:
            yield embedded
    else:
        from travel.store.postgis import PostgisStore

        async with postgis_database() as dsn, opened(PostgisStore(dsn)) as postgis:
            yield postgis
