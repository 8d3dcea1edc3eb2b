"""A live app on each backend with the bundled geodata and seeded events and alerts, for answer checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from tests.conftest import seed
from tests.factories import event
from tests.services import postgis_database, redis_url
from travel.core.geometry import Geometry
from travel.core.records import Alert, AlertArea, EventStatus, Record
from travel.core.settings import Settings

XUCHANG = (113.85, 34.03)


def seeded_records() -> list[Record]:
    """Events in force, planned and cleared (with and without stakes) and alerts in force and expired."""
    now = datetime.now(UTC)
    return [
        event("works", start_stake_m=650_200.0, end_stake_m=651_000.0),
        event("crash", type="accident", severity="severe", start_stake_m=None, lon=XUCHANG[0], lat=XUCHANG[1]),
        event("planned", status=EventStatus.PLANNED, road="G30", road_name="连霍高速", start_stake_m=600_000.0,
              end_stake_m=620_000.0),
        event("cleared", version=2, status=EventStatus.CLEARED, geometry=None),
        Alert(id="cma:fog", source="cma", source_id="fog", version=1, updated_at=now, identifier="fog",
              sender="cma", sent=now, event="大雾", colour="yellow", headline="许昌市气象台发布大雾黄色预警",
              expires=now + timedelta(days=1), roads=["G4"],
              areas=[AlertArea(area_desc="许昌市", admin_codes=["411000"])], geometry=Geometry.point(*XUCHANG)),
        Alert(id="cma:old", source="cma", source_id="old", version=1, updated_at=now - timedelta(days=2),
              identifier="old", sender="cma", sent=now - timedelta(days=2), event="暴雨",
              expires=now - timedelta(days=1), geometry=None),
    ]


@asynccontextmanager
async def settings_of(backend: str, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings for ``backend`` (embedded, or PostGIS and Redis, which skip or fail as tests.services says)."""
    if backend == "embedded":
        yield Settings(data_dir=tmp_path / "data", load_geodata=True)
        return
    async with postgis_database() as dsn, redis_url() as (url, prefix):
        yield Settings(database_url=dsn, redis_url=url, redis_stream=f"{prefix}:changes", data_dir=tmp_path / "data",
                       load_geodata=True)


async def fill(app: web.Application) -> None:
    """Seed a started app with ``seeded_records`` and wait until its read model shows them."""
    await seed(app, seeded_records(), timeout=30.0)
