"""Versioned SQL migrations for the PostGIS store, applied in name order and recorded once each.

The ``.sql`` files under ``travel/store/migrations`` are package data. Every pending file runs in its
own transaction together with its row in ``schema_migrations``, so a failed migration leaves no trace
and is retried on the next start. A session advisory lock serializes runners, so several processes may
start against the same database at once: the first applies, the others wait and then find nothing to do.
"""

from __future__ import annotations

import logging
import time
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "travel.store.migrations"

# An arbitrary constant shared by every process running these migrations ("travel" in ASCII).
LOCK_KEY = 0x74726176656C

LOCK_SQL = "SELECT pg_advisory_lock($1)"
UNLOCK_SQL = "SELECT pg_advisory_unlock($1)"
CREATE_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
APPLIED_SQL = "SELECT name FROM schema_migrations"
RECORD_SQL = "INSERT INTO schema_migrations (name) VALUES ($1)"


def migration_files() -> list[tuple[str, str]]:
    """(name, SQL) of every shipped migration, in the order they must be applied."""
    folder = resources.files(MIGRATIONS_PACKAGE)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the pending migrations on ``conn``; return the names applied (empty when up to date)."""
    log.debug("waiting for the migration lock")
    await conn.execute(LOCK_SQL, LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE_SQL)
        applied = {row["name"] for row in await conn.fetch(APPLIED_SQL)}
        done: list[str] = []
        for name, sql in migration_files():
            if name in applied:
                continue
            log.info("applying migration %s", name)
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(RECORD_SQL, name)
            log.info("applied migration %s in %.2f s", name, time.perf_counter() - started)
            done.append(name)
        if not done:
            log.info("schema is up to date (%d migrations)", len(applied))
        return done
    finally:
        if not conn.is_closed():  # a lost connection has released the lock with it
            await conn.execute(UNLOCK_SQL, LOCK_KEY)
