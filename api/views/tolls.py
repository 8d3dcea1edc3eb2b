"""Tolls: which class a vehicle is, what a trip costs, and the toll-free notices in force or coming."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from api.keys import READ_MODEL, ROAD_NETWORK, SETTINGS, TOLL_BOOKS
from api.params import QueryModel, csv_of, parse_query
from travel.core.answers import EXACT
from travel.core.crs import Crs
from travel.core.errors import ServiceUnavailable
from travel.core.records import DECLARED_POLICIES, Payment, TollNotice, TollPolicy
from travel.core.vehicle_classes import CLASS_CODES_TEXT, STANDARD, Vehicle, VehicleKind, classify, vehicle_class
from travel.core.zone import in_zone
from travel.read.readmodel import ReadModel
from travel.tolls.answer import ClassOut
from travel.tolls.quote import QuoteRequest, quote_json, with_at

EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)  # the times asked about
QUOTE_MAX_AGE_S = 60
NOTICES_MAX_AGE_S = 300


def _aware(value: Any) -> Any:
    """An ISO 8601 time that carries its UTC offset; a naive one is refused rather than guessed."""
    if isinstance(value, datetime):
        return value
    hint = "e.g. 2026-10-01T08:00:00+08:00 for 8 o'clock Beijing time"
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time; {hint}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"has no UTC offset; {hint}")
    if not EARLIEST <= parsed < LATEST:
        # Routes and quotes add hours and periods to it: far-off years would overflow the calendar.
        raise ValueError(f"must lie between {EARLIEST.year} and {LATEST.year - 1}")
    return parsed


AwareTime = Annotated[datetime, BeforeValidator(_aware),
                      Field(json_schema_extra={"type": "string", "format": "date-time"})]


def _known_class(value: int) -> int:
    vehicle_class(value)  # InvalidParameter listing the valid codes
    return value


def _declarable(value: list[TollPolicy]) -> list[TollPolicy]:
    wrong = [p.value for p in value if p not in DECLARED_POLICIES]
    if wrong:
        raise ValueError(f"{', '.join(wrong)} cannot be declared; declare one of "
                         f"{', '.join(sorted(p.value for p in DECLARED_POLICIES))}")
    return value


VehicleClassParam = Annotated[int, AfterValidator(_known_class),
                              Field(description=f"{STANDARD} code: {CLASS_CODES_TEXT}")]
DeclaredPolicies = Annotated[csv_of(TollPolicy), AfterValidator(_declarable),
                             Field(description="policies the driver declares: green_channel, combine_harvester")]


class ClassifyQuery(QueryModel):
    """Parameters of GET /v1/tolls/classify: what the registration certificate (行驶证) says."""

    kind: VehicleKind = Field(description="passenger (客车), truck (货车) or special (专项作业车)")
    seats: int | None = Field(default=None, ge=1, le=99, description="核定载人数 (passenger vehicles)")
    axles: int | None = Field(default=None, ge=1, le=20, description="number of axles (trucks, special)")
    length_m: float | None = Field(default=None, gt=0, le=30, description="vehicle length in metres")
    total_mass_kg: float | None = Field(default=None, gt=0, le=100_000,
                                        description="最大允许总质量 in kg (2-axle trucks, special)")


class ClassifyResponse(BaseModel):
    """Body of GET /v1/tolls/classify."""

    model_config = EXACT

    standard: str
    vehicle_class: ClassOut
    criterion: str = Field(description="zh: the standard's definition of the class")
    rule: str = Field(description="zh: the values that decided it")
    assumptions: list[str]


class QuoteQuery(QueryModel):
    """Parameters of GET /v1/tolls/quote."""

    origin: str = Field(alias="from", min_length=1, max_length=60, examples=["郑州"],
                        description="toll station id or name, place name (郑州, 许昌县), or lon,lat in `crs`")
    destination: str = Field(alias="to", min_length=1, max_length=60, examples=["洛阳"], description="as `from`")
    vehicle_class: VehicleClassParam = 1
    payment: Payment = Field(default="etc", description="etc, or cash (CPC card, non-ETC)")
    at: AwareTime | None = Field(default=None, description="exit time with offset (rules are judged by it); "
                                                          "default now")
    seats: int | None = Field(default=None, ge=1, le=99,
                              description="核定载人数; decides holiday toll-free passage (7 or fewer)")
    policy: DeclaredPolicies = Field(default_factory=list)
    crs: Crs = Field(default=Crs.WGS84, description="coordinate system of lon,lat parameters and results")
    geometry: bool = Field(default=False, description="true: include the path as a GeoJSON LineString")


class NoticesQuery(QueryModel):
    """Parameters of GET /v1/tolls/notices."""

    state: Literal["current", "active", "upcoming", "all"] = Field(
        default="current", description="current: in force or upcoming; active: in force at `at`; all")
    at: AwareTime | None = Field(default=None, description="the time judged against; default now")
    policy: csv_of(TollPolicy) = Field(default_factory=list, description="comma-separated policies")


class NoticeOut(BaseModel):
    """A notice and where it stands at the time asked about."""

    model_config = EXACT

    state: Literal["active", "upcoming", "ended", "cancelled"]
    notice: TollNotice


class NoticesResponse(BaseModel):
    """Body of GET /v1/tolls/notices: notices by start time."""

    model_config = EXACT

    at: datetime = Field(description="the time judged against, with the offset of the service's zone")
    count: int
    notices: list[NoticeOut]


def ready_model(request: web.Request) -> ReadModel:
    """The read model, or 503 while it is still loading (answers from half a model would be wrong)."""
    model = request.app[READ_MODEL]
    if not model.ready.is_set():
        raise ServiceUnavailable("the read model is still loading; retry shortly")
    return model


def _json(body: bytes, max_age: int) -> web.Response:
    return web.Response(body=body, content_type="application/json",
                        headers={"Cache-Control": f"public, max-age={max_age}"})


async def classify_vehicle(request: web.Request) -> web.Response:
    """GET /v1/tolls/classify — the JT/T 489-2019 class of a vehicle, and the rule that decided it."""
    q = parse_query(request, ClassifyQuery)
    found = classify(Vehicle(q.kind, seats=q.seats, axles=q.axles, length_m=q.length_m, total_mass_kg=q.total_mass_kg))
    cls = found.vehicle_class
    out = ClassOut(code=cls.code, name=cls.name, kind=cls.kind.value)
    body = ClassifyResponse(standard=STANDARD, vehicle_class=out, criterion=cls.criterion, rule=found.rule,
                            assumptions=found.assumptions)
    return _json(body.model_dump_json().encode(), 86_400)


async def quote_toll(request: web.Request) -> web.Response:
    """GET /v1/tolls/quote — the toll between two places for a vehicle class, over the route the planner chooses."""
    ready_model(request)  # 503 while loading
    paths = await request.app[ROAD_NETWORK].station_routes()
    book = request.app[TOLL_BOOKS].current()
    # The same question has one answer per book, route state and (without `at`) the periods of now:
    # asked again, it is served from its query string with the time it was judged at added.
    pinned = "at" in request.query
    now = datetime.now(UTC)
    key = (request.query_string, paths.state) if pinned else \
        (request.query_string, paths.state, book.tariff.period(now), book.notices_period(now))
    body = book.by_query.get(key)
    if body is None:
        q = parse_query(request, QuoteQuery)
        at = q.at or now
        body = book.by_query.put(key, quote_json(book, paths, QuoteRequest(
            origin=q.origin, destination=q.destination, vehicle_class=vehicle_class(q.vehicle_class),
            payment=q.payment, at=at, seats=q.seats, declared=frozenset(q.policy), crs=q.crs, geometry=q.geometry)))
    else:
        at = datetime.fromisoformat(request.query["at"]) if pinned else now
    return _json(with_at(body, at, request.app[SETTINGS].zone), QUOTE_MAX_AGE_S if pinned else 0)


def _state(notice: TollNotice, at: datetime) -> Literal["active", "upcoming", "ended", "cancelled"]:
    if notice.cancelled:
        return "cancelled"
    if notice.in_force(at):
        return "active"
    return "upcoming" if at < notice.starts_at else "ended"


async def list_notices(request: web.Request) -> web.Response:
    """GET /v1/tolls/notices — toll-free and discount notices: in force and upcoming by default."""
    q = parse_query(request, NoticesQuery)
    zone = request.app[SETTINGS].zone
    at = (q.at or datetime.now(UTC)).astimezone(zone)
    wanted = {"current": {"active", "upcoming"}, "active": {"active"}, "upcoming": {"upcoming"},
              "all": {"active", "upcoming", "ended", "cancelled"}}[q.state]
    policies = frozenset(q.policy)
    ready_model(request)  # 503 while loading
    notices = [NoticeOut(state=state, notice=in_zone(n, zone)) for n in request.app[TOLL_BOOKS].current().notices
               if (state := _state(n, at)) in wanted and (not policies or n.policy in policies)]
    body = NoticesResponse(at=at, count=len(notices), notices=notices)
    return _json(body.model_dump_json().encode(), NOTICES_MAX_AGE_S)
