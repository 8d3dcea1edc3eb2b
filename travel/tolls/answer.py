"""The shape of a toll quote as the API returns it: what ``travel.tolls.quote`` builds and what OpenAPI documents.

TypedDicts (``travel.core.answers``), so a quote is built as plain dicts (building models cost more than
the whole computation) while pydantic generates the documented schema from these same declarations.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import Field, with_config
from typing_extensions import TypedDict

from travel.core.answers import EXACT
from travel.core.records import Payment


@with_config(EXACT)
class StationOut(TypedDict):
    """A toll station, positioned in the requested crs."""

    id: str
    name: str
    road: str | None
    lon: float
    lat: float
    closed: Annotated[bool, Field(description="true: the station is closed now (traffic control)")]


@with_config(EXACT)
class PlaceRef(TypedDict):
    """What a from/to parameter resolved to."""

    kind: Annotated[str, Field(description="toll_station, city, county, service_area, coordinates …")]
    id: str
    name: str


@with_config(EXACT)
class SideOut(TypedDict):
    """One end of the trip."""

    query: Annotated[str, Field(description="the parameter as given")]
    place: PlaceRef
    station: Annotated[StationOut, Field(description="the station used")]
    stations_priced: Annotated[int, Field(description="how many of the place's stations were priced")]


@with_config(EXACT)
class ClassOut(TypedDict):
    """A JT/T 489-2019 vehicle class."""

    code: int
    name: Annotated[str, Field(description="zh, e.g. 一类客车")]
    kind: Literal["passenger", "truck", "special"]


@with_config(EXACT)
class SectionOut(TypedDict):
    """One toll (gantry) section of the path and what it charges."""

    id: str
    name: str
    road: str
    special: Literal["bridge", "tunnel"] | None
    km: Annotated[float, Field(description="kilometres charged in this section")]
    fen_per_km: int
    rate_yuan_per_km: float
    rate_id: Annotated[str, Field(description="the rate row applied")]
    base_fen: Annotated[int, Field(description="km × rate, rounded half up to the fen")]
    amount_fen: Annotated[int, Field(description="after notices and the ETC discount, rounded half up to the fen")]


@with_config(EXACT)
class PolicyOut(TypedDict):
    """A rule or notice considered for the quote."""

    id: Annotated[str | None, Field(description="notice id, or the rule's name")]
    policy: Annotated[str, Field(description="holiday_free, green_channel, combine_harvester, exemption, discount, "
                                             "etc_discount, etc_not_above_cash, cash_rounding")]
    title: str
    document: Annotated[str | None, Field(description="the notice or document (文号) it comes from")]
    applied: bool
    detail: Annotated[str | None, Field(description="zh: the effect, or why it did not apply")]


PairOut = with_config(EXACT)(TypedDict("PairOut", {
    "from": str,
    "to": str,
    "base_fen": int,
    "distance_km": float,
}))
PairOut.__doc__ = """Another station pair priced for the same places."""


@with_config(EXACT)
class RulesOut(TypedDict):
    """The rule set in force at the exit time."""

    id: str
    title: str
    document: str | None
    verified: Annotated[bool, Field(description="false: illustrative values, not an official table")]


@with_config(EXACT)
class TripTollOut(TypedDict):
    """What one trip (one entry, one exit) pays and why."""

    amount_yuan: float
    amount_fen: Annotated[int, Field(description="what is charged, in fen")]
    subtotal_fen: Annotated[int, Field(description="the sum of the sections' amount_fen")]
    adjustment_fen: Annotated[int, Field(description="amount_fen − subtotal_fen: cash rounding to the yuan, "
                                                     "the ETC cap, a minimum charge")]
    amounts_fen: Annotated[dict[Payment, int], Field(description="the same trip paid by ETC and by cash")]
    charged_km: float
    sections: list[SectionOut]
    policies: Annotated[list[PolicyOut], Field(description="every rule and notice applied")]
    not_applied: Annotated[list[PolicyOut], Field(description="notices in force that did not apply, with why")]
    assumptions: Annotated[list[str], Field(description="zh: what the quote assumed for values not given")]
    rule_version: str
    rules: RulesOut


@with_config(EXACT)
class TollOut(TripTollOut):
    """What a trip pays and why (the toll part of a quote, and of a route)."""

    trips: Annotated[int, Field(description="stretches on toll roads, each entered and left and charged on its "
                                            "own: 1 normally, more when the route leaves the toll roads on the way")]


@with_config(EXACT)
class LineStringOut(TypedDict):
    """A path as a GeoJSON LineString, in the requested crs."""

    type: Literal["LineString"]
    coordinates: list[list[float]]


_Ends = TypedDict("_Ends", {"from": SideOut, "to": SideOut})


@with_config(EXACT)
class QuoteBody(_Ends, TollOut):
    """A quote as computed and cached, before the time it was judged at is added (``QuoteOut`` less ``at``)."""

    vehicle_class: ClassOut
    seats: int | None
    payment: Payment
    distance_km: float
    priced_pairs: Annotated[list[PairOut],
                            Field(description="station pairs priced, cheapest first (the first is used)")]
    geometry: NotRequired[Annotated[LineStringOut, Field(description="the path (geometry=true)")]]


@with_config(EXACT)
class QuoteOut(QuoteBody):
    """Body of GET /v1/tolls/quote."""

    at: Annotated[str, Field(description="the exit time the rules were judged at (ISO 8601, with the offset "
                                         "of the service's zone)")]
