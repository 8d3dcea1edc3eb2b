"""Normalized domain records: what every feed is translated into and what the store keeps.

Every record is identified by ``(kind, id)``; ``id`` is ``"{source}:{source_id}"`` so ids stay
stable across polls and never collide between agencies. ``version`` orders the versions of one
record: a higher version supersedes, an equal or lower one is a no-op (see ``travel.store``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    field_validator,
    model_validator,
)

from travel.core.geometry import Geometry, GeometryType
from travel.core.vehicle_classes import CLASS_CODES, CLASS_CODES_TEXT

ID_PATTERN = r"^[A-Za-z0-9_.\-]+:[^\s]+$"
SOURCE_PATTERN = r"^[A-Za-z0-9_.\-]+$"
ROAD_CODE_PATTERN = r"^[GSXYZ][0-9]{1,4}$"


class Kind(StrEnum):
    """Every kind of record the store holds."""

    ROAD_SECTION = "road_section"
    EVENT = "event"
    POI = "poi"
    TOLL_SECTION = "toll_section"
    TOLL_RATE = "toll_rate"
    TOLL_RULES = "toll_rules"
    TOLL_NOTICE = "toll_notice"
    GAUGE = "gauge"
    READING = "reading"
    WATERWAY = "waterway"
    ALERT = "alert"
    ADMIN_AREA = "admin_area"
    SUBSCRIPTION = "subscription"


class Direction(StrEnum):
    """Travel direction relative to the stake numbering (上行 = increasing stakes)."""

    INCREASING = "increasing"
    DECREASING = "decreasing"
    BOTH = "both"
    UNKNOWN = "unknown"


class StrictModel(BaseModel):
    """Our own types: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nul(self) -> StrictModel:
        """Refuse U+0000: PostgreSQL cannot store it, so it would fail a whole batch later."""
        values = self.__dict__
        for name in _text_fields(type(self)):
            value = values[name]
            if type(value) is str:  # most text fields: tested directly, without a tuple or an inner loop
                if "\x00" in value:
                    raise _nul_error(name)
            elif type(value) is list:
                for item in value:
                    if type(item) is str and "\x00" in item:
                        raise _nul_error(name)
        return self


def _nul_error(name: str) -> ValueError:
    return ValueError(f"{name}: text contains a NUL character (U+0000)")


@cache
def _text_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model that can hold text (str, or lists/optionals of it), found once per class."""
    return tuple(name for name, f in cls.model_fields.items() if "str" in repr(f.annotation))


class Record(StrictModel):
    """Fields every stored record carries: identity, provenance, version and timestamps."""

    kind: ClassVar[Kind]
    geometry_types: ClassVar[frozenset[GeometryType] | None] = None

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=200, description="source:source_id")]
    source: Annotated[str, Field(pattern=SOURCE_PATTERN, max_length=64)]
    source_id: Annotated[str, Field(min_length=1, max_length=160)]
    version: Annotated[int, Field(ge=0, description="higher supersedes lower")]
    updated_at: AwareDatetime = Field(description="when the source last changed the record")
    ingested_at: AwareDatetime | None = Field(
        default=None, description="when this version was committed (set by the store)"
    )
    geometry: Geometry | None = None

    @model_validator(mode="after")
    def _check_identity(self) -> Record:
        if self.id != f"{self.source}:{self.source_id}":
            raise ValueError(f"id {self.id!r} must be '{self.source}:{self.source_id}'")
        allowed = type(self).geometry_types
        if allowed is not None and self.geometry is not None and self.geometry.type not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(f"{self.kind} geometry must be one of {names}, not {self.geometry.type}")
        return self

    @property
    def road_code(self) -> str | None:
        """The road this record lies on, for road filters; None when not on a road."""
        return None

    @property
    def active(self) -> bool:
        """Whether the record is in force (events and alerts end; reference data does not)."""
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} v{self.version}>"


# --------------------------------------------------------------------------- road network
class RoadClass(StrEnum):
    """Administrative class of a road."""

    EXPRESSWAY = "expressway"
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    COUNTY = "county"
    OTHER = "other"


class Restrictions(StrictModel):
    """Physical and legal limits on a section (from the road database or traffic control)."""

    max_height_m: float | None = Field(default=None, gt=0)
    max_weight_t: float | None = Field(default=None, gt=0)
    max_axle_load_t: float | None = Field(default=None, gt=0)
    forbidden_classes: list[int] = Field(default_factory=list)


class BannedTurn(StrictModel):
    """A turn that may not be made: from the section holding it into section ``to`` at node ``via``.

    ``via`` is a ``from_node``/``to_node`` id; without it the ban holds at every node the two
    sections share (the older form, a plain id, still reads as that).
    """

    to: str
    via: str | None = None


class RoadSection(Record):
    """One directed-or-both-ways piece of the road network between two nodes."""

    kind: ClassVar[Kind] = Kind.ROAD_SECTION
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset({GeometryType.LINESTRING})
    geometry: Geometry

    road: Annotated[str, Field(pattern=ROAD_CODE_PATTERN, description="road code, e.g. G4")]
    road_name: str = Field(description="zh name, e.g. 京港澳高速")
    road_class: RoadClass
    from_node: str
    to_node: str
    start_stake_m: float = Field(ge=0, description="stake at from_node, metres")
    end_stake_m: float = Field(ge=0, description="stake at to_node, metres")
    oneway: bool = Field(default=False, description="true: only from_node → to_node")
    speed_kmh: float = Field(gt=0, le=150)
    lanes: int | None = Field(default=None, ge=1, le=12)
    toll: bool = False
    restrictions: Restrictions | None = None
    banned_turns: list[BannedTurn] = Field(
        default_factory=list, description="turns that may not be made from this section: into section `to` at "
                                          "node `via` (turn restrictions, e.g. from OSM relations); a plain "
                                          "section id bans the turn at every node the two share")

    @field_validator("banned_turns", mode="before")
    @classmethod
    def _plain_ids(cls, value: Any) -> Any:
        """Accept the older form, a plain section id, as a ban at every shared node."""
        if isinstance(value, list):
            return [{"to": item} if isinstance(item, str) else item for item in value]
        return value

    @property
    def road_code(self) -> str | None:
        """The road code of this section."""
        return self.road


# --------------------------------------------------------------------------- road events
class EventType(StrEnum):
    """What kind of road event (路况)."""

    CLOSURE = "closure"
    CONSTRUCTION = "construction"
    ACCIDENT = "accident"
    CONGESTION = "congestion"
    WEATHER = "weather"
    CONTROL = "control"
    HAZARD = "hazard"
    OTHER = "other"


class Severity(StrEnum):
    """Impact on traffic, least to most."""

    MINOR = "minor"
    MODERATE = "moderate"
    MAJOR = "major"
    SEVERE = "severe"
    UNKNOWN = "unknown"


class EventStatus(StrEnum):
    """Lifecycle of a road event; cleared events stay in history."""

    PLANNED = "planned"
    ACTIVE = "active"
    CLEARED = "cleared"


class RoadEvent(Record):
    """A road event: closure, roadworks, accident, congestion, weather impact, traffic control."""

    kind: ClassVar[Kind] = Kind.EVENT

    type: EventType
    severity: Severity = Severity.UNKNOWN
    status: EventStatus = EventStatus.ACTIVE
    road: Annotated[str | None, Field(pattern=ROAD_CODE_PATTERN)] = None
    road_name: str | None = None
    direction: Direction = Direction.UNKNOWN
    direction_text: str | None = Field(default=None, description="zh, e.g. 郑州往许昌方向")
    start_stake_m: float | None = Field(default=None, ge=0)
    end_stake_m: float | None = Field(default=None, ge=0)
    description: str = Field(min_length=1, max_length=4000, description="zh description")
    start_time: AwareDatetime | None = None
    expected_end: AwareDatetime | None = None
    lanes_affected: str | None = None
    location_text: str | None = Field(
        default=None, max_length=1000, description="the source's own location words (e.g. from/to, AlertC codes)"
    )
    restrictions: Restrictions | None = Field(default=None, description="limits imposed by the event")
    reduced_speed_kmh: float | None = Field(default=None, gt=0, le=150)

    @model_validator(mode="after")
    def _check_ranges(self) -> RoadEvent:
        if self.start_time and self.expected_end and self.expected_end < self.start_time:
            raise ValueError("expected_end is before start_time")
        if self.end_stake_m is not None and self.start_stake_m is None:
            raise ValueError("end_stake_m given without start_stake_m")
        return self

    @property
    def road_code(self) -> str | None:
        """The road the event is on."""
        return self.road

    @property
    def active(self) -> bool:
        """An event is in force while its status is active."""
        return self.status is EventStatus.ACTIVE


# --------------------------------------------------------------------------- points of interest
class PoiKind(StrEnum):
    """Kinds of point of interest the travel pages look up."""

    TOLL_STATION = "toll_station"
    SERVICE_AREA = "service_area"
    GAS_STATION = "gas_station"
    INTERCHANGE = "interchange"
    BUS_STATION = "bus_station"


class OpenStatus(StrEnum):
    """Whether a facility is open."""

    OPEN = "open"
    PARTIAL = "partial"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class Facilities(StrictModel):
    """What a service area or gas station offers."""

    fuel: list[str] = Field(default_factory=list, description="e.g. 92#, 95#, 0#柴油, LNG")
    ev_charging: bool = False
    food: bool = False
    lodging: bool = False
    repair: bool = False
    toilets: bool = True
    parking: bool = True
    shop: bool = False


class Poi(Record):
    """Toll station, service area, gas station, interchange or bus station."""

    kind: ClassVar[Kind] = Kind.POI
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset({GeometryType.POINT})
    geometry: Geometry

    poi_kind: PoiKind
    name: str = Field(min_length=1, max_length=200, description="zh name")
    road: Annotated[str | None, Field(pattern=ROAD_CODE_PATTERN)] = None
    stake_m: float | None = Field(default=None, ge=0)
    direction: Direction = Direction.BOTH
    admin_code: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    address: str | None = None
    phone: str | None = None
    facilities: Facilities | None = None
    open_status: OpenStatus = OpenStatus.UNKNOWN
    status_note: str | None = None
    roads: list[str] = Field(default_factory=list, description="all roads an interchange joins")

    @property
    def road_code(self) -> str | None:
        """The road the POI is on."""
        return self.road


# --------------------------------------------------------------------------- tolls
class TollSection(Record):
    """A charging (gantry) section: the unit a distance-based toll is summed over."""

    kind: ClassVar[Kind] = Kind.TOLL_SECTION
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset({GeometryType.LINESTRING})
    geometry: Geometry

    road: Annotated[str, Field(pattern=ROAD_CODE_PATTERN)]
    name: str = Field(description="zh, e.g. 郑州—许昌")
    road_sections: list[str] = Field(min_length=1, description="ids of the road sections it covers")
    length_m: float = Field(gt=0)
    special: Literal["bridge", "tunnel"] | None = None

    @property
    def road_code(self) -> str | None:
        """The road of this toll section."""
        return self.road


class TollRate(Record):
    """The charge of one toll section for one vehicle class over a validity period."""

    kind: ClassVar[Kind] = Kind.TOLL_RATE

    toll_section: str = Field(description="id of the TollSection")
    vehicle_class: int = Field(description="JT/T 489-2019 code")
    fen_per_km: int = Field(ge=0, description="rate in fen per km")
    effective_from: AwareDatetime
    effective_to: AwareDatetime | None = None

    @field_validator("vehicle_class")
    @classmethod
    def _known_class(cls, value: int) -> int:
        return _check_classes([value])[0]

    @model_validator(mode="after")
    def _check_rate(self) -> TollRate:
        _check_period(self.effective_from, self.effective_to, "effective_to", "effective_from")
        return self


def _check_classes(codes: list[int]) -> list[int]:
    bad = sorted(set(codes) - CLASS_CODES)
    if bad:
        raise ValueError(f"{', '.join(map(str, bad))} is not a JT/T 489-2019 vehicle class "
                         f"(valid: {CLASS_CODES_TEXT})")
    return codes


def _check_period(start: datetime, end: datetime | None, end_name: str, start_name: str) -> None:
    if end is not None and end <= start:
        raise ValueError(f"{end_name} must be after {start_name}")


class TollRules(Record):
    """The province's charging rules: discounts and rounding, as dated configuration rather than code.

    The rule set in force at a quote's time applies; its ``rule_version`` is reported with every quote.
    """

    kind: ClassVar[Kind] = Kind.TOLL_RULES

    rule_version: str = Field(min_length=1, max_length=60, description="e.g. henan-2020.1")
    title: str = Field(description="zh, what the rules are")
    document: str | None = Field(default=None, description="the notice that set them (文号)")
    effective_from: AwareDatetime
    effective_to: AwareDatetime | None = None
    etc_discount_percent: Decimal = Field(ge=5, le=100, description="ETC basic discount, at least 5 %")
    cash_rounding: Literal["yuan", "fen"] = Field(
        default="yuan", description="non-ETC (CPC card/cash) total: half up to whole yuan, or to the fen")
    etc_not_above_cash: bool = Field(
        default=True, description="an ETC charge is capped at what the same trip costs without ETC")
    minimum_fen: dict[int, int] = Field(default_factory=dict, description="minimum charge per class, fen")
    verified: bool = Field(default=False, description="false: illustrative values, not an official table")

    @field_validator("minimum_fen")
    @classmethod
    def _known_classes(cls, value: dict[int, int]) -> dict[int, int]:
        _check_classes(list(value))
        return value

    @model_validator(mode="after")
    def _check_rules(self) -> TollRules:
        _check_period(self.effective_from, self.effective_to, "effective_to", "effective_from")
        return self


class TollPolicy(StrEnum):
    """What a toll notice grants."""

    HOLIDAY_FREE = "holiday_free"  # 重大节假日免收小型客车通行费
    GREEN_CHANNEL = "green_channel"  # 鲜活农产品运输“绿色通道”
    COMBINE_HARVESTER = "combine_harvester"  # 跨区作业联合收割机（插秧机）运输车辆
    EXEMPTION = "exemption"  # any other free passage the department announces
    DISCOUNT = "discount"  # a percentage off, e.g. for trucks on some roads


Payment = Literal["etc", "cash"]
# Policies a driver declares (``policy=`` on a quote); the others apply by themselves.
DECLARED_POLICIES: frozenset[TollPolicy] = frozenset({TollPolicy.GREEN_CHANNEL, TollPolicy.COMBINE_HARVESTER})


class TollNotice(Record):
    """A dated toll-free or discount notice (免收通行费公告), judged by the time the vehicle exits."""

    kind: ClassVar[Kind] = Kind.TOLL_NOTICE

    policy: TollPolicy
    title: str = Field(min_length=1, max_length=200, description="zh title")
    document: str | None = Field(default=None, description="文号, e.g. 国发〔2012〕37号")
    issuer: str | None = None
    description: str | None = Field(default=None, max_length=4000, description="zh text")
    starts_at: AwareDatetime = Field(description="first exit time it applies to")
    ends_at: AwareDatetime | None = Field(default=None, description="exclusive end; none: until revoked")
    vehicle_classes: list[int] = Field(default_factory=list, description="classes covered; empty: all")
    max_seats: int | None = Field(default=None, ge=1, description="passenger vehicles of at most this many seats")
    discount_percent: Decimal = Field(default=Decimal(100), gt=0, le=100, description="100: toll-free")
    payments: list[Payment] = Field(default_factory=list, description="etc and/or cash; empty: both")
    roads: list[Annotated[str, Field(pattern=ROAD_CODE_PATTERN)]] = Field(
        default_factory=list, description="roads covered; empty: every road")
    cancelled: bool = False

    @field_validator("vehicle_classes")
    @classmethod
    def _known_classes(cls, value: list[int]) -> list[int]:
        return _check_classes(value)

    @model_validator(mode="after")
    def _check_notice(self) -> TollNotice:
        _check_period(self.starts_at, self.ends_at, "ends_at", "starts_at")
        return self

    @property
    def active(self) -> bool:
        """Published and not withdrawn (whether it is in force is judged against a time)."""
        return not self.cancelled

    @property
    def declared(self) -> bool:
        """Whether the driver must declare it (green channel, harvesters) for it to apply."""
        return self.policy in DECLARED_POLICIES

    def in_force(self, at: datetime) -> bool:
        """Whether a vehicle exiting at ``at`` falls inside the notice's window."""
        return self.active and self.starts_at <= at and (self.ends_at is None or at < self.ends_at)


# --------------------------------------------------------------------------- waterways
class Gauge(Record):
    """A hydrological gauge with its reference levels."""

    kind: ClassVar[Kind] = Kind.GAUGE
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset({GeometryType.POINT})
    geometry: Geometry

    name: str
    river: str
    station_code: str | None = None
    admin_code: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    datum: str = Field(default="85国家高程基准", description="height datum of the levels")
    warning_level_m: float | None = None
    guaranteed_level_m: float | None = None


class GaugeReading(Record):
    """One observed water level (and flow, when measured) at a gauge."""

    kind: ClassVar[Kind] = Kind.READING

    gauge: str = Field(description="id of the Gauge")
    observed_at: AwareDatetime
    level_m: float = Field(ge=-500, le=9000)
    flow_m3s: float | None = Field(default=None, ge=0)


class WaterwaySection(Record):
    """A navigable waterway section (航道)."""

    kind: ClassVar[Kind] = Kind.WATERWAY
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset(
        {GeometryType.LINESTRING, GeometryType.MULTILINESTRING}
    )
    geometry: Geometry

    name: str = Field(description="zh, e.g. 沙颍河 周口—界首段")
    river: str
    grade: Literal["I", "II", "III", "IV", "V", "VI", "VII"] | None = None
    navigable: bool = True
    status_note: str | None = None


# --------------------------------------------------------------------------- alerts (CAP-shaped)
class AlertMsgType(StrEnum):
    """CAP msgType."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class AlertSeverity(StrEnum):
    """CAP severity."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class AlertUrgency(StrEnum):
    """CAP urgency."""

    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class AlertCertainty(StrEnum):
    """CAP certainty."""

    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class WarningColour(StrEnum):
    """Chinese warning-signal colour (预警信号颜色), blue lowest."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class AlertArea(StrictModel):
    """A CAP <area>: description plus geocodes (GB/T 2260 admin codes) and/or shapes."""

    area_desc: str
    admin_codes: list[Annotated[str, Field(pattern=r"^\d{6}$")]] = Field(default_factory=list)
    geometry: Geometry | None = None


class AlertText(StrictModel):
    """The texts of one CAP <info> in one language (the primary language's are on the alert itself)."""

    language: str
    event: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None


class Alert(Record):
    """A weather-emergency alert in CAP 1.2 terms; an Update or Cancel references earlier ones."""

    kind: ClassVar[Kind] = Kind.ALERT

    identifier: str
    sender: str
    sent: AwareDatetime
    msg_type: AlertMsgType = AlertMsgType.ALERT
    event: str = Field(description="zh event, e.g. 大雾, 道路结冰")
    colour: WarningColour | None = None
    severity: AlertSeverity = AlertSeverity.UNKNOWN
    urgency: AlertUrgency = AlertUrgency.UNKNOWN
    certainty: AlertCertainty = AlertCertainty.UNKNOWN
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    language: str = "zh-CN"
    translations: list[AlertText] = Field(default_factory=list, description="the other languages' texts")
    effective: AwareDatetime | None = Field(default=None, description="CAP effective: when the information applies")
    onset: AwareDatetime | None = Field(default=None, description="when the event begins (effective if not given)")
    expires: AwareDatetime | None = None
    areas: list[AlertArea] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list, description="CAP sender,identifier,sent")
    cancelled: bool = False
    superseded_by: str | None = Field(default=None, description="id of the Update that replaced this alert")
    roads: list[str] = Field(default_factory=list, description="road codes the alert touches")

    @property
    def active(self) -> bool:
        """In force until cancelled or superseded; expiry is judged against the clock by readers."""
        return not self.cancelled and self.superseded_by is None and self.msg_type is not AlertMsgType.CANCEL

    def in_force(self, now: datetime) -> bool:
        """Whether the alert applies at ``now``."""
        return self.active and (self.expires is None or self.expires > now)


# --------------------------------------------------------------------------- admin areas
class AdminLevel(StrEnum):
    """Level of an administrative division."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


class AdminArea(Record):
    """An administrative division with its GB/T 2260 code."""

    kind: ClassVar[Kind] = Kind.ADMIN_AREA
    geometry_types: ClassVar[frozenset[GeometryType] | None] = frozenset(
        {GeometryType.POLYGON, GeometryType.MULTIPOLYGON, GeometryType.POINT}
    )
    geometry: Geometry

    code: Annotated[str, Field(pattern=r"^\d{6}$")]
    name: str = Field(description="zh full name, e.g. 郑州市")
    short_name: str = Field(description="zh short name, e.g. 郑州")
    level: AdminLevel
    parent_code: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    approximate: bool = Field(default=False, description="true when the outline is approximate")


# --------------------------------------------------------------------------- subscriptions
class Subscription(Record):
    """An SMS alert subscription: a phone and the area, roads or route it watches."""

    kind: ClassVar[Kind] = Kind.SUBSCRIPTION

    phone: Annotated[str, Field(pattern=r"^\+?86?1[3-9]\d{9}$")]
    admin_codes: list[Annotated[str, Field(pattern=r"^\d{6}$")]] = Field(default_factory=list)
    roads: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list, description="alert/event kinds wanted; empty = all")
    quiet_from: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    quiet_to: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    verified: bool = False
    cancelled: bool = False

    @property
    def active(self) -> bool:
        """A subscription receives pushes once verified and until cancelled."""
        return self.verified and not self.cancelled


# --------------------------------------------------------------------------- sources
class SourceConfig(StrictModel):
    """One configured source of data: an agency's feed, polled (``url``) or pushed (``push``)."""

    id: Annotated[str, Field(pattern=SOURCE_PATTERN, max_length=64)]
    agency: str = Field(description="zh agency name, e.g. 河南省高速公路管理局")
    format: str = Field(description="a feed format name (see feeds/README.md)")
    url: str | None = Field(default=None, pattern=r"^https?://", description="polled with GET")
    push: bool = Field(default=False, description="the source POSTs to /v1/ingest/{id}")
    poll_interval_s: float = Field(default=60, ge=1, le=86_400)
    timeout_s: float = Field(default=10, gt=0, le=300, description="one poll's whole time limit")
    max_backoff_s: float = Field(default=600, ge=1, description="cap of the delay after failures")
    stale_after_s: float | None = Field(
        default=None, gt=0, description="flag stale after this long without success (default 3 polls)"
    )
    secret: SecretStr | None = Field(default=None, description="push HMAC secret (prefer secret_env)")
    secret_env: str | None = Field(default=None, description="env var holding the push secret")
    zone: str | None = Field(default="Asia/Shanghai", description="zone of times given without an offset")
    charset: str | None = Field(default=None, description="encoding when the transport declares none")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers (API keys)")
    kinds: list[Kind] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_mode(self) -> SourceConfig:
        if (self.url is None) == (not self.push):
            raise ValueError("a source has either a url (polled) or push = true, not both and not neither")
        return self

    @property
    def staleness_limit_s(self) -> float | None:
        """How long without success before the source is stale (None: a push source never stated one)."""
        return self.stale_after_s or (3 * self.poll_interval_s if self.url else None)


RECORD_TYPES: dict[Kind, type[Record]] = {
    cls.kind: cls
    for cls in (
        RoadSection,
        RoadEvent,
        Poi,
        TollSection,
        TollRate,
        TollRules,
        TollNotice,
        Gauge,
        GaugeReading,
        WaterwaySection,
        Alert,
        AdminArea,
        Subscription,
    )
}

_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {k: TypeAdapter(t) for k, t in RECORD_TYPES.items()}


def record_from_json(kind: Kind, data: bytes | str) -> Record:
    """Decode one stored record of ``kind`` from its JSON body."""
    return _ADAPTERS[kind].validate_json(data)


def record_from_dict(kind: Kind, data: dict[str, Any]) -> Record:
    """Decode one record of ``kind`` from a dict (e.g. a parsed feed item)."""
    return _ADAPTERS[kind].validate_python(data)
