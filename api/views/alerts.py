"""Weather-emergency alerts (预警): list with filters, one with its version history."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import Field

from api.params import ActiveFilter, SpatialQuery
from api.views.lists import feature_with_history, list_features
from travel.core.records import ROAD_CODE_PATTERN, SOURCE_PATTERN, Alert, Kind, Record
from travel.read.readmodel import KindView

MAX_AGE_S = 10


class AlertsQuery(SpatialQuery):
    """Filters of GET /v1/alerts."""

    road: str | None = Field(default=None, pattern=ROAD_CODE_PATTERN, description="alerts touching this road")
    area: str | None = Field(default=None, pattern=r"^\d{6}$", description="GB/T 2260 admin code, e.g. 410100")
    event: str | None = Field(default=None, max_length=40, description="zh event, e.g. 大雾")
    active: ActiveFilter = Field(default="true", description="true: in force now; false: cancelled, "
                                                             "superseded or expired; all")
    source: str | None = Field(default=None, pattern=SOURCE_PATTERN)


def _keep(q: AlertsQuery) -> Callable[[Record], bool]:
    now = datetime.now(UTC)

    def keep(record: Record) -> bool:
        assert isinstance(record, Alert)
        if q.active != "all" and record.in_force(now) != (q.active == "true"):
            return False
        if q.road is not None and q.road not in record.roads:
            return False
        if q.area is not None and not any(
            q.area == code or code.startswith(q.area.rstrip("0")) or q.area.startswith(code.rstrip("0"))
            for a in record.areas for code in a.admin_codes
        ):
            return False
        if q.event is not None and record.event != q.event:
            return False
        return q.source is None or record.source == q.source

    return keep


def _newest_first(record: Record) -> tuple[float, str]:
    return (-record.updated_at.timestamp(), record.id)


def _expiries(view: KindView) -> list[float]:
    """Every alert's expiry (POSIX seconds), sorted: when being in force can change with no new version."""
    return sorted(r.expires.timestamp() for r in view.records.values() if isinstance(r, Alert) and r.expires)


def _expired_so_far(view: KindView) -> str:
    """How many expiries have passed: the list's answer changes with it, so its ETag must."""
    return str(bisect_right(view.summary(_expiries), time.time()))


async def list_alerts(request: web.Request) -> web.Response:
    """GET /v1/alerts — alerts as a GeoJSON FeatureCollection (geometry: the union of their areas)."""
    return await list_features(request, Kind.ALERT, AlertsQuery, _keep, _newest_first, MAX_AGE_S,
                               moment=_expired_so_far)


async def get_alert(request: web.Request) -> web.Response:
    """GET /v1/alerts/{id} — one alert with every version (Update, Cancel) it has had."""
    return await feature_with_history(request, Kind.ALERT, "alert", MAX_AGE_S)
