"""The shape of a toll quote as the API returns it (the OpenAPI schema is generated from these models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from travel.core.records import Payment


class Out(BaseModel):
    """Answer models: the schema the API documents and the shape quotes are built in."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StationOut(Out):
    """A toll station, positioned in the requested crs."""

    id: str
    name: str
    road: str | None
    lon: float
    lat: float
    closed: bool = Field(description="true: the station is closed now (traffic control)")


class PlaceRef(Out):
    """What a from/to parameter resolved to."""

    kind: str = Field(description="toll_station, city, county, service_area, coordinates …")
    id: str
    name: str


class SideOut(Out):
    """One end of the trip."""

    query: str = Field(description="the parameter as given")
    place: PlaceRef
    station: StationOut = Field(description="the station used")
    stations_priced: int = Field(description="how many of the place's stations were priced")


class ClassOut(Out):
    """A JT/T 489-2019 vehicle class."""

    code: int
    name: str = Field(description="zh, e.g. 一类客车")
    kind: Literal["passenger", "truck", "special"]


class SectionOut(Out):
    """One toll (gantry) section of the path and what it charges."""

    id: str
    name: str
    road: str
    special: Literal["bridge", "tunnel"] | None
    km: float = Field(description="kilometres charged in this section")
    fen_per_km: int
    rate_yuan_per_km: float
    rate_id: str = Field(description="the rate row applied")
    base_fen: int = Field(description="km × rate, rounded half up to the fen")
    amount_fen: int = Field(description="after notices and the ETC discount, rounded half up to the fen")


class PolicyOut(Out):
    """A rule or notice considered for the quote."""

    id: str | None = Field(description="notice id, or the rule's name")
    policy: str = Field(description="holiday_free, green_channel, combine_harvester, exemption, discount, "
                                    "etc_discount, etc_not_above_cash, cash_rounding")
    title: str
    document: str | None = Field(description="the notice or document (文号) it comes from")
    applied: bool
    detail: str | None = Field(description="zh: the effect, or why it did not apply")


class PairOut(Out):
    """Another station pair priced for the same places."""

    from_: str = Field(alias="from")
    to: str
    base_fen: int
    distance_km: float


class RulesOut(Out):
    """The rule set in force at the exit time."""

    id: str
    title: str
    document: str | None
    verified: bool = Field(description="false: illustrative values, not an official table")


class TollOut(Out):
    """What a trip pays and why (the toll part of a quote, and of a route)."""

    amount_yuan: float
    amount_fen: int = Field(description="what is charged, in fen")
    subtotal_fen: int = Field(description="the sum of the sections' amount_fen")
    adjustment_fen: int = Field(description="amount_fen − subtotal_fen: cash rounding to the yuan, the ETC cap, "
                                            "a minimum charge")
    amounts_fen: dict[Payment, int] = Field(description="the same trip paid by ETC and by cash")
    charged_km: float
    sections: list[SectionOut]
    policies: list[PolicyOut] = Field(description="every rule and notice applied")
    not_applied: list[PolicyOut] = Field(description="notices in force that did not apply, with why")
    assumptions: list[str] = Field(description="zh: what the quote assumed for values not given")
    rule_version: str
    rules: RulesOut
    trips: int = Field(description="stretches on toll roads, each entered and left and charged on its own: "
                                   "1 normally, more when the route leaves the toll roads on the way")


class QuoteOut(TollOut):
    """Body of GET /v1/tolls/quote."""

    from_: SideOut = Field(alias="from")
    to: SideOut
    vehicle_class: ClassOut
    seats: int | None
    payment: Payment
    at: str = Field(description="the exit time the rules were judged at (ISO 8601)")
    distance_km: float
    priced_pairs: list[PairOut] = Field(description="station pairs priced, cheapest first (the first is used)")
    geometry: dict | None = Field(default=None, description="GeoJSON LineString of the path (geometry=true)")
