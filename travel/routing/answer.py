"""The shape of GET /v1/routes: what the planner builds and what OpenAPI documents (TypedDicts: plain dicts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, with_config
from typing_extensions import TypedDict

from travel.core.answers import EXACT
from travel.core.records import Facilities
from travel.tolls.answer import ClassOut, LineStringOut, PlaceRef, TollOut


@with_config(EXACT)
class WaypointOut(TypedDict):
    """A from/via/to place, where it was taken to be, and how far that is from the road it starts on."""

    query: str
    place: PlaceRef
    lon: float
    lat: float
    snapped_m: Annotated[float, Field(description="distance from the point to the road section it was snapped to")]


@with_config(EXACT)
class InstructionOut(TypedDict):
    """One step: a stretch on one road, or the arrival."""

    text: Annotated[str, Field(description="zh, e.g. 在荥阳收费站转G310国道，向西行驶 33 公里（K588+468—K621+116）")]
    road: str | None
    road_name: str | None
    direction: Annotated[str | None, Field(description="zh compass direction of the stretch (东, 西南 …)")]
    from_stake: str | None
    to_stake: str | None
    distance_km: float
    duration_min: float


@with_config(EXACT)
class RouteEventOut(TypedDict):
    """A road event in effect on the route's sections, and what it does to routing."""

    id: str
    type: str
    severity: str
    road: str | None
    stake_range: str | None
    description: str
    effect: Annotated[str | None, Field(description="zh, e.g. 通行时间按2.5倍计")]


@with_config(EXACT)
class RouteAlertOut(TypedDict):
    """A weather alert in force within 1 km of the route."""

    id: str
    event: str
    colour: str | None
    severity: str
    headline: str | None
    expires: str | None


@with_config(EXACT)
class ServiceAreaOut(TypedDict):
    """A service area within 500 m of the route, in driving order."""

    id: str
    name: str
    road: str | None
    stake: str | None
    open_status: str
    status_note: str | None
    facilities: Facilities | None


@with_config(EXACT)
class ClosureOut(TypedDict):
    """A closure within 30 km of the route that it went around."""

    id: str
    text: str


@with_config(EXACT)
class UnpricedTollOut(TypedDict):
    """A route whose toll cannot be priced (a rate or the rules are missing), and why."""

    amount_fen: None
    amount_yuan: None
    trips: int
    error: str


@with_config(EXACT)
class RouteOut(TypedDict):
    """One route."""

    distance_km: float
    duration_min: float
    arrive_at: str
    roads: list[str]
    toll: TollOut | UnpricedTollOut
    instructions: list[InstructionOut]
    events: list[RouteEventOut]
    alerts: list[RouteAlertOut]
    service_areas: list[ServiceAreaOut]
    closures_avoided: list[ClosureOut]
    geometry: Annotated[LineStringOut, Field(description="in the requested crs")]


RoutesOut = with_config(EXACT)(TypedDict("RoutesOut", {
    "from": WaypointOut,
    "to": WaypointOut,
    "via": list[WaypointOut],
    "vehicle_class": ClassOut,
    "optimize": Literal["fastest", "shortest", "cheapest"],
    "depart_at": str,
    "avoid": list[str],
    "routes": Annotated[list[RouteOut], Field(description="the best first, then meaningfully different alternatives")],
}))
RoutesOut.__doc__ = """Body of GET /v1/routes."""
