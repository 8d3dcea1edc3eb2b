"""Route planning (出行策划): fastest, shortest or cheapest routes around what is closed right now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from aiohttp import web
from pydantic import BeforeValidator, Field

from api.keys import PLANNER, SETTINGS
from api.params import QueryModel, csv_of, parse_query
from api.views.tolls import AwareTime, DeclaredPolicies, VehicleClassParam, ready_model
from travel.core.crs import Crs
from travel.core.records import Payment
from travel.core.vehicle_classes import vehicle_class
from travel.routing.profiles import Metric
from travel.routing.search import MAX_ALTERNATIVES, MAX_VIA, RouteRequest


def _places(value: Any) -> Any:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


class RoutesQuery(QueryModel):
    """Parameters of GET /v1/routes."""

    origin: str = Field(alias="from", min_length=1, max_length=60, examples=["郑州"],
                        description="a place (郑州, 许昌东收费站, 长葛服务区) or lon,lat in `crs`")
    destination: str = Field(alias="to", min_length=1, max_length=60, examples=["洛阳"], description="as `from`")
    via: Annotated[list[str], BeforeValidator(_places)] = Field(
        default_factory=list, max_length=MAX_VIA, description=f"up to {MAX_VIA} places, separated by ';'")
    vehicle_class: VehicleClassParam = 1
    optimize: Metric = Field(default=Metric.FASTEST, description="fastest, shortest, or cheapest (toll, then time)")
    avoid: csv_of(Literal["closures", "tolls", "expressways"]) = Field(
        default_factory=lambda: ["closures"], description="closures are always avoided; add tolls, expressways")
    depart_at: AwareTime | None = Field(default=None, description="departure with offset; default now")
    alternatives: int = Field(default=0, ge=0, le=MAX_ALTERNATIVES,
                              description=f"meaningfully different extra routes (0–{MAX_ALTERNATIVES})")
    payment: Payment = Field(default="etc", description="how tolls are paid: etc or cash")
    seats: int | None = Field(default=None, ge=1, le=99, description="核定载人数 (holiday toll-free passage)")
    policy: DeclaredPolicies = Field(default_factory=list)
    height_m: float | None = Field(default=None, gt=0, le=6, description="vehicle height (default: 4 m for trucks)")
    total_mass_t: float | None = Field(default=None, gt=0, le=200,
                                       description="actual total mass (default: the legal maximum of its axles)")
    axle_load_t: float | None = Field(default=None, gt=0, le=50, description="heaviest axle load")
    crs: Crs = Field(default=Crs.WGS84, description="coordinate system of lon,lat parameters and geometries")


async def plan_routes(request: web.Request) -> web.Response:
    """GET /v1/routes — routes between places for a vehicle class, live closures avoided.

    The departure is given to the planner in the service's zone: the answer writes its times in the departure's.
    """
    q = parse_query(request, RoutesQuery)
    ready_model(request)  # 503 while loading
    depart_at = (q.depart_at or datetime.now(UTC)).astimezone(request.app[SETTINGS].zone)
    body = await request.app[PLANNER].plan(RouteRequest(
        origin=q.origin, destination=q.destination, vehicle_class=vehicle_class(q.vehicle_class),
        depart_at=depart_at, via=tuple(q.via), optimize=q.optimize,
        avoid_tolls="tolls" in q.avoid, avoid_expressways="expressways" in q.avoid, alternatives=q.alternatives,
        payment=q.payment, seats=q.seats, declared=frozenset(q.policy), height_m=q.height_m,
        total_mass_t=q.total_mass_t, axle_load_t=q.axle_load_t, crs=q.crs))
    return web.Response(body=orjson.dumps(body), content_type="application/json",
                        headers={"Cache-Control": "no-cache"})
