"""Durable stores: the embedded SQLite file (default) or PostgreSQL + PostGIS."""

from __future__ import annotations

from travel.core.settings import Settings
from travel.store.base import Store


def make_store(settings: Settings) -> Store:
    """PostGIS when DATABASE_URL is set, else the embedded file store under the data dir."""
    if settings.database_url:
        from travel.store.postgis import PostgisStore

        return PostgisStore(settings.database_url)
    from travel.store.embedded import EmbeddedStore

    return EmbeddedStore(settings.embedded_path)
