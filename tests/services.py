"""Finding the real PostgreSQL+PostGIS and Redis servers the suites need, and the skip-or-fail rule.

Locally a missing server skips its tests with the reason; with TRAVEL_REQUIRE_SERVICES=1 (CI) it is
a failure, so those suites can never silently skip there.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
import pytest
import redis.asyncio as aioredis

from travel.store.base import Store

S = TypeVar("S", bound="Store")

PG_ADMIN_DSN = os.environ.get("TRAVEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("TRAVEL_TEST_REDIS", "redis://127.0.0.1:6379/15")


def services_required() -> bool:
    """Whether a missing service must fail the run (CI) rather than skip."""
    return os.environ.get("TRAVEL_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (CI) because a required service is missing."""
    if services_required():
        pytest.fail(f"TRAVEL_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


async def postgis_admin() -> asyncpg.Connection:
    """An admin connection to a PostgreSQL that offers PostGIS; skip (or fail in CI) with the reason otherwise."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as err:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {err}")
    if not await admin.fetchval("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"):
        await admin.close()
        unavailable(f"PostGIS is not installed in the PostgreSQL at {PG_ADMIN_DSN}")
    return admin


def database_dsn(name: str) -> str:
    """The DSN of database ``name`` on the test server."""
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


@asynccontextmanager
async def postgis_database() -> AsyncIterator[str]:
    """Create a throw-away database with PostGIS, yield its DSN, drop it afterwards."""
    admin = await postgis_admin()
    name = f"travel_test_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        db = await asyncpg.connect(database_dsn(name))
        try:
            await db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            await db.close()
        yield database_dsn(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def redis_url() -> AsyncIterator[tuple[str, str]]:
    """Yield the test Redis URL and a unique key prefix; keys under the prefix are deleted after."""
    client = aioredis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as err:
        await client.aclose()
        unavailable(f"Redis is not reachable at {REDIS_TEST_URL}: {err}")
    prefix = f"travel-test-{secrets.token_hex(4)}"
    try:
        yield REDIS_TEST_URL, prefix
    finally:
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def opened(store: S) -> AsyncIterator[S]:
    """An opened store, closed afterwards."""
    await store.open()
    try:
        yield store
    finally:
        await store.close()
