"""The store fixture, parametrised over both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services import postgis_database
from travel.store.base import Store


@pytest.fixture(params=["embedded", "postgis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend."""
    if request.param == "embedded":
        from travel.store.embedded import EmbeddedStore

        s: Store = EmbeddedStore(tmp_path / "travel.sqlite3")
        await s.open()
        try:
            yield s
        finally:
            await s.close()
    else:
        from travel.store.postgis import PostgisStore

        async with postgis_database() as dsn:
            s = PostgisStore(dsn)
            await s.open()
            try:
                yield s
            finally:
                await s.close()
