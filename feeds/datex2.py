"""DATEX II situation publications (road events) → :class:`travel.core.records.RoadEvent`.

Supported documents
    * v2 (2.x, namespace ``http://datex2.eu/schema/2/2_0``): root ``d2LogicalModel`` with
      ``payloadPublication xsi:type="SituationPublication"``; ``exchange`` (its ``updateMethod``)
      says whether the document is a snapshot: absent, ``snapshot`` or ``allElementUpdate`` → yes;
      ``singleElementUpdate`` or anything unknown → no (a delta never ends absent records).
    * v3 (namespaces ``http://datex2.eu/schema/3/...``): a bare ``d2:payload`` (always a snapshot),
      or an Exchange-2020 ``messageContainer`` wrapping one or more ``payload`` elements; an
      ``updateMethod`` anywhere in its ``exchangeInformation`` is honoured.

    Any other root, or a publication that is not a ``SituationPublication`` (e.g.
    ``MeasuredDataPublication``), refuses the whole document with the type named. ``xsi:type``
    values may carry a prefix (``sit:Accident``): only the local part is used. Elements are matched
    by local name, so v2 and v3 share one reader. A document without any payload is refused too
    (an empty snapshot would end every event). Records without an ``id``, or repeating one, are
    rejected.

Reading
    ``feeds.base.parse_xml`` (no DTDs/entities; GBK declared honoured) with the cycle collector
    paused (``feeds.base.gc_paused``). Tags are resolved through per-tag tables (``_TagTable``): one
    dict lookup per element, no namespace splitting, every element visited once.

Field mapping (one RoadEvent per ``situationRecord``)
    * ``source_id`` ← record ``id``; ``version``/``updated_at`` ← ``situationRecordVersionTime``,
      else ``situationRecordCreationTime`` (neither → the record is rejected).
    * ``type`` ← ``xsi:type`` via ``_TYPES``; ``RoadOrCarriagewayOrLaneManagement`` is a closure when
      its ``roadOrCarriagewayOrLaneManagementType`` is in ``_CLOSURES``, else control. Unmapped types
      are ``other`` and their description ends with ``（DATEX II 类型：<type>）`` so the source's
      meaning is not lost.
    * ``severity`` ← record ``severity``, else the situation's ``overallSeverity`` (``_SEVERITY``:
      none/lowest/low → minor, medium → moderate, high → major, highest → severe, unknown/absent →
      unknown); a value outside the enumeration rejects the record.
    * ``status`` ← ``validityStatus``: suspended → cleared, active → active, planned → planned,
      definedByValidityTimeSpec → planned before ``overallStartTime``, cleared after
      ``overallEndTime``, else active (judged at ``ctx.received_at``); no validity → active; any
      other value rejects the record. ``start_time``/``expected_end`` ← ``overallStartTime``/
      ``overallEndTime``.
    * ``description`` ← ``generalPublicComment/comment/values/value`` (``lang`` zh* preferred, else
      the first; cut to 4000 characters); without one it is composed in Chinese from road, stake,
      direction and type, e.g. ``G30 连霍高速 K600+000 交通事故``.
    * Location (v2 ``groupOfLocations``, v3 ``locationReference``), read in one pass:
      ``pointByCoordinates/pointCoordinates`` → Point; ``gmlLineString/posList`` → LineString;
      ``linearCoordinatesStartPoint``/``linearCoordinatesEndPoint`` → 2-point LineString;
      ``locationForDisplay`` → Point when nothing better is given. A ``posList`` is read as
      "lat lon lat lon …" (EPSG:4326 axis order, the DATEX II convention) unless its
      ``gmlLineString`` has an ``srsName`` naming CRS84 (then "lon lat"); ``srsDimension="3"``
      drops every third number.
    * ``road``/``road_name`` ← ``roadNumber`` (``G4``, ``G30``, ``G4京港澳高速`` → code + name; other
      words go to ``location_text``) and ``roadName``.
    * ``start_stake_m``/``end_stake_m`` ← ``distanceAlongLinearElement`` (v3 ``distanceAlong``) in
      ``fromPoint``/``toPoint``/``pointAlongLinearElement``; a referent whose
      ``referentIdentifier``/``referentName`` is a stake (``K650+200``, Chinese profile) adds its
      metres to the distance.
    * ``direction`` ← ``directionRelativeOnLinearSection``/``directionOnLinearSection``/
      ``directionRelativeAtPoint`` (aligned → increasing, opposite → decreasing, both → both);
      compass ``directionBound*``/``tpegDirection`` → ``direction_text`` (``_COMPASS``, e.g.
      northBound → 北向). AlertC directions count along the location table, not the stakes: only
      ``both`` is taken (as both).
    * AlertC / TPEG locations → ``location_text`` (table, version, location codes, AlertC direction,
      offsets, TPEG names); no geometry is invented for them.
    * ``lanes_affected`` ← ``lane``/``laneUsage`` names (``_LANES``) and ``numberOfLanesRestricted``
      (e.g. ``第1车道，第2车道，2条车道受限``); ``reduced_speed_kmh`` ← ``temporarySpeedLimit``.

Deliberately not supported: other publication types, ``situation`` grouping (each record stands
alone), AlertC/TPEG/OpenLR decoding (that needs the location tables: linking happens later),
``nonGeneralPublicComment``, multi-lingual descriptions beyond picking one, ``laneStatusCoded``
detail, ``Itinerary``/``Area`` locations beyond the first geometry found in them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from pydantic import ValidationError

from feeds.base import (
    FeedError,
    ParseContext,
    Parsed,
    gc_paused,
    local,
    namespace,
    parse_time,
    parse_xml,
    split_road,
    validation_reason,
    version_of,
)
from travel.core.records import Direction, EventStatus, EventType, RoadEvent, Severity
from travel.core.stakes import format_stake_range, parse_stake

V2_NAMESPACE = "http://datex2.eu/schema/2/2_0"
V3_NAMESPACE_PREFIX = "http://datex2.eu/schema/3/"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_MAX_DESCRIPTION = 4000
_MAX_LOCATION_TEXT = 1000

_TYPES: dict[str, EventType] = {
    "Accident": EventType.ACCIDENT,
    "MaintenanceWorks": EventType.CONSTRUCTION,
    "ConstructionWorks": EventType.CONSTRUCTION,
    "Roadworks": EventType.CONSTRUCTION,
    "RoadOrCarriagewayOrLaneManagement": EventType.CONTROL,
    "SpeedManagement": EventType.CONTROL,
    "ReroutingManagement": EventType.CONTROL,
    "NetworkManagement": EventType.CONTROL,
    "GeneralNetworkManagement": EventType.CONTROL,
    "AbnormalTraffic": EventType.CONGESTION,
    "PoorEnvironmentConditions": EventType.WEATHER,
    "WeatherRelatedRoadConditions": EventType.WEATHER,
    "NonWeatherRelatedRoadConditions": EventType.HAZARD,
    "VehicleObstruction": EventType.HAZARD,
    "GeneralObstruction": EventType.HAZARD,
    "AnimalPresenceObstruction": EventType.HAZARD,
    "EnvironmentalObstruction": EventType.HAZARD,
    "InfrastructureDamageObstruction": EventType.HAZARD,
}
"""``situationRecord xsi:type`` → event type; anything else is ``other``."""

_CLOSURES = frozenset({"roadClosed", "carriagewayClosures", "allCarriagewaysClosed"})
"""Management types that make a RoadOrCarriagewayOrLaneManagement record a closure."""

_TYPE_LABELS: dict[str, str] = {
    "Accident": "交通事故",
    "MaintenanceWorks": "养护施工",
    "ConstructionWorks": "道路施工",
    "Roadworks": "道路施工",
    "RoadOrCarriagewayOrLaneManagement": "交通管制",
    "SpeedManagement": "限速管制",
    "ReroutingManagement": "绕行分流",
    "NetworkManagement": "交通管制",
    "GeneralNetworkManagement": "交通管制",
    "AbnormalTraffic": "交通拥堵",
    "PoorEnvironmentConditions": "恶劣天气",
    "WeatherRelatedRoadConditions": "路面湿滑",
    "NonWeatherRelatedRoadConditions": "路面异常",
    "VehicleObstruction": "车辆故障",
    "GeneralObstruction": "路面障碍物",
    "AnimalPresenceObstruction": "动物闯入",
    "EnvironmentalObstruction": "落石塌方",
    "InfrastructureDamageObstruction": "设施损坏",
}
"""Chinese words for a composed description, by ``xsi:type``."""

_SUBTYPE_LABELS: dict[str, str] = {
    "roadClosed": "道路封闭",
    "carriagewayClosures": "道路封闭",
    "allCarriagewaysClosed": "道路封闭",
    "laneClosures": "车道封闭",
    "fog": "大雾",
    "denseFog": "浓雾",
    "patchyFog": "团雾",
    "freezingFog": "冻雾",
    "heavySnowfall": "暴雪",
    "snowfall": "降雪",
    "blizzard": "暴风雪",
    "heavyRain": "暴雨",
    "rain": "降雨",
    "strongWinds": "大风",
    "sandStorms": "沙尘暴",
    "hail": "冰雹",
    "smogAlert": "雾霾",
    "ice": "道路结冰",
    "blackIce": "道路结冰",
    "freezingOfWetRoads": "道路结冰",
    "iceBuildUp": "道路结冰",
    "snowOnTheRoad": "路面积雪",
    "wetIcyRoad": "路面湿滑结冰",
}
"""Chinese words for the sub-type enumerations that refine a label (management, weather, surface)."""


_SEVERITY: dict[str, Severity] = {
    "none": Severity.MINOR,
    "lowest": Severity.MINOR,
    "low": Severity.MINOR,
    "medium": Severity.MODERATE,
    "high": Severity.MAJOR,
    "highest": Severity.SEVERE,
    "unknown": Severity.UNKNOWN,
}
"""DATEX II SeverityEnum → our severity (``none``, "no impact", is the mildest we have)."""

_RELATIVE_DIRECTION: dict[str, Direction] = {
    "aligned": Direction.INCREASING,
    "opposite": Direction.DECREASING,
    "both": Direction.BOTH,
    "bothWays": Direction.BOTH,
    "unknown": Direction.UNKNOWN,
}
"""Direction relative to the linear element (its stake numbering) → our direction."""

_COMPASS: dict[str, str] = {
    "northBound": "北向",
    "southBound": "南向",
    "eastBound": "东向",
    "westBound": "西向",
    "northEastBound": "东北向",
    "northWestBound": "西北向",
    "southEastBound": "东南向",
    "southWestBound": "西南向",
    "clockwise": "顺时针方向",
    "anticlockwise": "逆时针方向",
    "innerRing": "内环",
    "outerRing": "外环",
    "inboundTowardsTown": "进城方向",
    "outboundFromTown": "出城方向",
    "bothWays": "双向",
}
"""Compass / ring directions (``directionBound*``, ``tpegDirection``) → Chinese ``direction_text``."""

_ALERTC_DIRECTION: dict[str, str] = {"positive": "正向", "negative": "反向", "both": "双向", "unknown": "方向不明"}

_LANES: dict[str, str] = {
    "allLanesCompleteCarriageway": "全部车道",
    "hardShoulder": "应急车道",
    "leftLane": "左侧车道",
    "rightLane": "右侧车道",
    "middleLane": "中间车道",
    "overtakingLane": "超车道",
    "busLane": "公交车道",
    **{f"lane{i}": f"第{i}车道" for i in range(1, 10)},
}
"""DATEX II lane names → Chinese."""

_STATUS_FIXED: dict[str, EventStatus] = {
    "active": EventStatus.ACTIVE,
    "suspended": EventStatus.CLEARED,
    "planned": EventStatus.PLANNED,
}

_SNAPSHOT_METHODS = frozenset({"snapshot", "allElementUpdate"})
"""``updateMethod`` values that list everything current; any other value is a delta (the safe side)."""



_MAX_CACHED_TAGS = 4096
_names: dict[str, str] = {}


class _TagTable(dict[str, Any]):
    """Full tag (``{namespace}name``) → what to do with it, filled from local names on first sight.

    Documents repeat a few hundred tags many thousand times: one dict lookup per element, with no
    namespace splitting, is what keeps the reader fast.
    """

    def __init__(self, by_name: dict[str, Any]) -> None:
        super().__init__()
        self.by_name = by_name

    def __missing__(self, tag: str) -> Any:
        value = self.by_name.get(local(tag))
        if len(self) < _MAX_CACHED_TAGS:
            self[tag] = value
        return value


def _name(tag: str) -> str:
    """Local name of a tag, cached: documents repeat a few hundred tags many thousand times."""
    try:
        return _names[tag]
    except KeyError:
        name = local(tag)
        if len(_names) < _MAX_CACHED_TAGS:
            _names[tag] = name
        return name


def _xsi_type(elem: Element) -> str | None:
    """The element's ``xsi:type`` without its namespace prefix."""
    value = elem.get(_XSI_TYPE)
    return value.strip().rsplit(":", 1)[-1] if value else None


def _text(elem: Element) -> str | None:
    value = elem.text
    if value is None:
        return None
    return value.strip() or None


def _number(value: str | None, what: str) -> float | None:
    """A finite number from element text; None when empty."""
    return None if value is None else _float(value, what)


def _float(value: str, what: str) -> float:
    """A finite number (surrounding blanks allowed); ValueError naming the element otherwise."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} {value.strip()!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} {value.strip()!r} is not a finite number")
    return number


def _multilingual(elem: Element) -> str | None:
    """The Chinese value of a DATEX II MultilingualString (``values/value[@lang]``), else the first one."""
    first = None
    for value in elem.iter():
        words = value.text
        if words is None or not _VALUE_TAGS[value.tag]:
            continue
        words = words.strip()
        if not words:
            continue
        lang = value.get("lang")
        if lang and lang[:2].lower() == "zh":
            return words
        if first is None:
            first = words
    return first or _text(elem)


# --------------------------------------------------------------------------- document level
def parse(data: bytes, ctx: ParseContext) -> Parsed:
    """Read a DATEX II v2/v3 SituationPublication: one RoadEvent per situationRecord."""
    with gc_paused():
        return _parse(data, ctx)


def _parse(data: bytes, ctx: ParseContext) -> Parsed:
    root = parse_xml(data, ctx.charset)
    publications, snapshot = _publications(root)
    parsed = Parsed(snapshot=snapshot)
    seen: set[str] = set()
    position = 0
    for publication in publications:
        for situation in publication:
            if _name(situation.tag) != "situation":
                continue
            overall = None
            for item in situation:
                name = _name(item.tag)
                if name == "overallSeverity":
                    overall = _text(item)
                elif name == "situationRecord":
                    position += 1
                    _add_record(parsed, item, overall, ctx, seen, position)
    return parsed


def _publications(root: Element) -> tuple[list[Element], bool]:
    """The situation publications of a document and whether it is a snapshot; FeedError otherwise."""
    ns, name = namespace(root.tag), _name(root.tag)
    if ns == V2_NAMESPACE and name == "d2LogicalModel":
        publications = [c for c in root if _name(c.tag) == "payloadPublication"]
        snapshot = _is_snapshot(next((c for c in root if _name(c.tag) == "exchange"), None))
    elif ns.startswith(V3_NAMESPACE_PREFIX) and name == "payload":
        publications, snapshot = [root], True
    elif ns.startswith(V3_NAMESPACE_PREFIX) and name == "messageContainer":
        publications = [c for c in root if _name(c.tag) == "payload"]
        snapshot = _is_snapshot(next((c for c in root if _name(c.tag) == "exchangeInformation"), None))
    else:
        raise FeedError(
            f"root element {name!r} in namespace {ns or '(none)'!r} is not a DATEX II v2 d2LogicalModel "
            "or v3 payload/messageContainer",
            "root",
        )
    if not publications:
        raise FeedError("the document carries no payload publication", name)
    for publication in publications:
        kind = _xsi_type(publication)
        if kind != "SituationPublication":
            raise FeedError(
                f"publication type {kind or '(none)'} is not supported: only SituationPublication",
                _name(publication.tag),
            )
    return publications, snapshot


def _is_snapshot(exchange: Element | None) -> bool:
    """True unless the exchange names an update method other than snapshot/allElementUpdate."""
    if exchange is None:
        return True
    for elem in exchange.iter():
        if _name(elem.tag) == "updateMethod":
            return _text(elem) in _SNAPSHOT_METHODS
    return True


def _add_record(
    parsed: Parsed, record: Element, overall: str | None, ctx: ParseContext, seen: set[str], position: int
) -> None:
    """Build one RoadEvent, or note why the record is left out."""
    record_id = (record.get("id") or "").strip()
    where = f"situationRecord id={record_id}" if record_id else f"situationRecord #{position}"
    if not record_id:
        parsed.reject(where, "the record has no id")
        return
    if record_id in seen:
        parsed.reject(where, "a record with this id came earlier in the document")
        return
    seen.add(record_id)
    try:
        parsed.records.append(RoadEvent.model_validate(_record_fields(record, record_id, overall, ctx)))
    except ValidationError as err:
        parsed.reject(where, validation_reason(err))
    except ValueError as err:
        parsed.reject(where, str(err))


# --------------------------------------------------------------------------- record level
class _Record:
    """What one pass over a situationRecord's children collects (texts, converted later)."""

    __slots__ = (
        "comment",
        "created",
        "end",
        "lanes_restricted",
        "location",
        "severity",
        "speed",
        "start",
        "subtype",
        "validity",
        "version_time",
    )

    def __init__(self) -> None:
        self.version_time: str | None = None
        self.created: str | None = None
        self.severity: str | None = None
        self.validity: str | None = None
        self.start: str | None = None
        self.end: str | None = None
        self.comment: str | None = None
        self.location: _Location | None = None
        self.subtype: str | None = None
        self.lanes_restricted: str | None = None
        self.speed: str | None = None

    def read(self, record: Element) -> None:
        """Collect the fields from the record's children, descending into the groups that hold some."""
        tags = _RECORD_TAGS
        pending = [record]  # a stack, not recursion: nesting depth is the document's to choose
        while pending:
            for elem in pending.pop():
                action = tags[elem.tag]
                if action is None:
                    continue
                if action is _GROUP:
                    pending.append(elem)
                elif action is _COMMENT:
                    if self.comment is None:
                        self.comment = _comment(elem)
                elif action is _LOCATION:
                    if self.location is None:
                        self.location = _Location(elem)
                else:
                    value = elem.text
                    setattr(self, action, value.strip() or None if value else None)


def _comment(general: Element) -> str | None:
    """The text of a generalPublicComment (``comment`` is a MultilingualString)."""
    for elem in general:
        if _name(elem.tag) == "comment":
            return _multilingual(elem)
    return None


def _record_fields(record: Element, record_id: str, overall: str | None, ctx: ParseContext) -> dict[str, Any]:
    """The RoadEvent fields of one situationRecord; ValueError naming what is wrong."""
    rec = _Record()
    rec.read(record)
    changed_text = rec.version_time or rec.created
    if changed_text is None:
        raise ValueError("situationRecordVersionTime and situationRecordCreationTime are both missing")
    changed = parse_time(
        changed_text, ctx, "situationRecordVersionTime" if rec.version_time else "situationRecordCreationTime"
    )
    start = parse_time(rec.start, ctx, "overallStartTime") if rec.start else None
    end = parse_time(rec.end, ctx, "overallEndTime") if rec.end else None
    kind = _xsi_type(record) or "SituationRecord"
    event_type = _TYPES.get(kind, EventType.OTHER)
    if kind == "RoadOrCarriagewayOrLaneManagement" and rec.subtype in _CLOSURES:
        event_type = EventType.CLOSURE
    loc = rec.location or _Location(None)
    fields: dict[str, Any] = {
        "id": f"{ctx.source}:{record_id}",
        "source": ctx.source,
        "source_id": record_id,
        "version": version_of(changed),
        "updated_at": changed,
        "type": event_type,
        "severity": _severity(rec.severity or overall),
        "status": _status(rec.validity, start, end, ctx.received_at),
        "description": _description(rec, loc, kind, event_type),
    }
    if start is not None:
        fields["start_time"] = start
    if end is not None:
        fields["expected_end"] = end
    loc.fill(fields)
    lanes = _lanes(loc.lanes, _number(rec.lanes_restricted, "numberOfLanesRestricted"))
    if lanes:
        fields["lanes_affected"] = lanes
    if rec.speed is not None:
        fields["reduced_speed_kmh"] = _float(rec.speed, "temporarySpeedLimit")
    return fields


def _severity(value: str | None) -> Severity:
    if value is None:
        return Severity.UNKNOWN
    try:
        return _SEVERITY[value]
    except KeyError:
        raise ValueError(f"severity {value!r} is not a DATEX II severity ({', '.join(_SEVERITY)})") from None


def _status(validity: str | None, start: datetime | None, end: datetime | None, now: datetime) -> EventStatus:
    """Status (planned / active / cleared) from validityStatus and, when it defers to it, the time span."""
    if validity is None:
        return EventStatus.ACTIVE
    fixed = _STATUS_FIXED.get(validity)
    if fixed is not None:
        return fixed
    if validity != "definedByValidityTimeSpec":
        raise ValueError(f"validityStatus {validity!r} is not a DATEX II validity status")
    if start is not None and start > now:
        return EventStatus.PLANNED
    if end is not None and end < now:
        return EventStatus.CLEARED
    return EventStatus.ACTIVE


def _description(rec: _Record, loc: _Location, kind: str, event_type: EventType) -> str:
    """The source's comment, else Chinese words composed from location and type (never empty)."""
    text = rec.comment
    if text is None:
        label = _SUBTYPE_LABELS.get(rec.subtype or "") or _TYPE_LABELS.get(kind, "交通事件")
        place = None if loc.road or loc.road_name else loc.location_text
        words = (loc.road, loc.road_name, format_stake_range(loc.start_stake, loc.end_stake), place, loc.direction_text)
        text = " ".join(w for w in (*words, label) if w)
    if event_type is EventType.OTHER:
        text = f"{text}（DATEX II 类型：{kind}）"
    return text[:_MAX_DESCRIPTION]


def _lanes(lanes: list[str], restricted: float | None) -> str | None:
    parts = list(dict.fromkeys(_LANES.get(lane, lane) for lane in lanes))
    if restricted is not None:
        parts.append(f"{restricted:g}条车道受限")
    return "，".join(parts) or None


# --------------------------------------------------------------------------- location
class _Location:
    """One pass over a groupOfLocations / locationReference subtree.

    The walk is pre-order, so a container (``fromPoint``, ``linearCoordinatesEndPoint``…) is seen
    just before its contents: remembering the last one tells which slot a number belongs to.
    """

    __slots__ = (
        "_alertc_role",
        "_number_name",
        "_srs",
        "_stake_slot",
        "alertc",
        "direction",
        "direction_text",
        "lanes",
        "line",
        "points",
        "road",
        "road_name_text",
        "stakes",
        "words",
    )

    def __init__(self, elem: Element | None) -> None:
        self.road: str | None = None
        self.road_name_text: str | None = None
        self.direction = Direction.UNKNOWN
        self.direction_text: str | None = None
        self.line: list[list[float]] | None = None
        self.points: dict[str, list[float | None]] = {}  # slot → [lat, lon]
        self.stakes: dict[str, list[float | None]] = {}  # slot → [distance, referent stake]
        self.lanes: list[str] = []
        self.words: list[str] = []
        self.alertc: dict[str, str] = {}
        self._number_name: str | None = None
        self._stake_slot = "start"
        self._alertc_role = "primary"
        self._srs: Element | None = None
        if elem is not None:
            self._walk(elem)

    # ----------------------------------------------------------------- reading
    def _walk(self, root: Element) -> None:
        tags = _LOCATION_TAGS
        points = self.points
        current: list[float | None] | None = None
        for elem in root.iter():
            action = tags[elem.tag]
            if action is None:
                continue
            kind = type(action)
            if kind is tuple:
                handler, name = action
                handler(self, elem, name)
            elif kind is str:
                current = points.setdefault(action, [None, None])
            elif current is not None:  # 0: latitude, 1: longitude of the current point
                value = elem.text
                current[action] = _float(value, _AXES[action]) if value else None

    def _road_number(self, elem: Element, name: str) -> None:
        value = _text(elem)
        if value is None or self.road is not None:
            return
        code, words = split_road(value)
        if code:
            self.road = code
            self._number_name = words  # "G4京港澳高速": used when no roadName says
        else:
            self.words.append(value)

    def _road_name(self, elem: Element, name: str) -> None:
        if self.road_name_text is None:
            self.road_name_text = _multilingual(elem)

    def _stake_container(self, elem: Element, name: str) -> None:
        self._stake_slot = "end" if name == "toPoint" else "start"

    def _distance(self, elem: Element, name: str) -> None:
        value = _text(elem)
        if value is not None:
            self.stakes.setdefault(self._stake_slot, [None, None])[0] = _float(value, name)

    def _referent(self, elem: Element, name: str) -> None:
        value = _text(elem)
        if value is None:
            return
        try:
            metres = parse_stake(value)
        except ValueError:
            if name == "referentName":  # a name (e.g. 郑州收费站) is worth showing; an id is not
                self.words.append(value)
            return
        self.stakes.setdefault(self._stake_slot, [None, None])[1] = metres

    def _relative_direction(self, elem: Element, name: str) -> None:
        value = _RELATIVE_DIRECTION.get(_text(elem) or "")
        if value is not None and value is not Direction.UNKNOWN:
            self.direction = value

    def _compass(self, elem: Element, name: str) -> None:
        value = _text(elem) or ""
        words = _COMPASS.get(value)
        if words and self.direction_text is None:
            self.direction_text = words
        if value == "bothWays" and self.direction is Direction.UNKNOWN:
            self.direction = Direction.BOTH

    def _pos_list(self, elem: Element, name: str) -> None:
        numbers = (_text(elem) or "").split()
        srs = self._srs if self._srs is not None else elem
        declared = (srs.get("srsDimension") or elem.get("srsDimension") or "2").strip()
        if declared not in ("2", "3"):
            raise ValueError(f"posList srsDimension {declared!r} is not 2 or 3")
        dimension = int(declared)
        if len(numbers) % dimension:
            raise ValueError(f"posList has {len(numbers)} numbers, not a multiple of {dimension}")
        lon_first = "CRS84" in (srs.get("srsName") or "").upper()
        values = [_float(n, "posList") for n in numbers]
        first, second = (0, 1) if lon_first else (1, 0)
        line = [[values[i + first], values[i + second]] for i in range(0, len(values), dimension)]
        if self.line is None and line:
            self.line = line

    def _gml(self, elem: Element, name: str) -> None:
        self._srs = elem

    def _lane(self, elem: Element, name: str) -> None:
        value = _text(elem)
        if value:
            self.lanes.append(value)

    def _alertc(self, elem: Element, name: str) -> None:
        value = _text(elem)
        if value is None:
            return
        if name == "specificLocation":
            name = self._alertc_role
        elif name == "offsetDistance":
            name = f"{self._alertc_role} offset"
        elif name == "alertCDirectionCoded" and value == "both" and self.direction is Direction.UNKNOWN:
            self.direction = Direction.BOTH  # both ways is both ways whichever way the table counts
        self.alertc.setdefault(name, value)

    def _alertc_point(self, elem: Element, name: str) -> None:
        self._alertc_role = "secondary" if "Secondary" in name else "primary"

    def _descriptor(self, elem: Element, name: str) -> None:
        words = _multilingual(elem)
        if words:
            self.words.append(words)

    # ----------------------------------------------------------------- output
    def fill(self, out: dict[str, Any]) -> None:
        """Add the RoadEvent fields this location gives (only the ones it has)."""
        geometry = self._geometry()
        if geometry is not None:
            out["geometry"] = geometry
        if self.road:
            out["road"] = self.road
        road_name = self.road_name
        if road_name:
            out["road_name"] = road_name
        if self.direction is not Direction.UNKNOWN:
            out["direction"] = self.direction
        if self.direction_text:
            out["direction_text"] = self.direction_text
        start = self.start_stake
        if start is not None:
            out["start_stake_m"] = start
            end = self.end_stake
            if end is not None:
                out["end_stake_m"] = end
        words = self.location_text
        if words:
            out["location_text"] = words

    @property
    def road_name(self) -> str | None:
        """The ``roadName``, else the words after the code in ``roadNumber`` (``G4京港澳高速``)."""
        return self.road_name_text or self._number_name

    @property
    def start_stake(self) -> float | None:
        """Metres of the first point along the road (referent stake + distance from it)."""
        return _stake(self.stakes.get("start"))

    @property
    def end_stake(self) -> float | None:
        """Metres of the last point along the road."""
        return _stake(self.stakes.get("end"))

    @property
    def location_text(self) -> str | None:
        """The source's location words plus a readable AlertC reference."""
        if not self.words and not self.alertc:
            return None
        parts = list(dict.fromkeys(self.words))
        alertc = _alertc_text(self.alertc)
        if alertc:
            parts.append(alertc)
        return "；".join(parts)[:_MAX_LOCATION_TEXT] or None

    def _geometry(self) -> dict[str, Any] | None:
        if self.line is not None:
            return {"type": "LineString", "coordinates": self.line}
        points = self.points
        start, finish = points.get("start"), points.get("end")
        if start is not None and finish is not None:
            return {"type": "LineString", "coordinates": [_lon_lat(start), _lon_lat(finish)]}
        for key in ("point", "start", "display"):
            if key in points:
                return {"type": "Point", "coordinates": _lon_lat(points[key])}
        return None


def _stake(slot: list[float | None] | None) -> float | None:
    if slot is None:
        return None
    distance, referent = slot
    if distance is None and referent is None:
        return None
    return (referent or 0.0) + (distance or 0.0)


def _lon_lat(point: list[float | None]) -> list[float]:
    lat, lon = point
    if lat is None or lon is None:
        raise ValueError("a coordinate has a latitude or a longitude but not both")
    return [lon, lat]


def _alertc_text(codes: dict[str, str]) -> str | None:
    """``AlertC 位置表 41（版本 2.0） 主位置码 12360（偏移 200 米） 次位置码 12345 双向`` from the codes."""
    if "primary" not in codes:
        return None
    table = codes.get("alertCLocationTableNumber", "?")
    version = codes.get("alertCLocationTableVersion")
    parts = [f"AlertC 位置表 {table}" + (f"（版本 {version}）" if version else "")]
    for role, label in (("primary", "主位置码"), ("secondary", "次位置码")):
        if role in codes:
            offset = codes.get(f"{role} offset")
            parts.append(f"{label} {codes[role]}" + (f"（偏移 {offset} 米）" if offset else ""))
    direction = codes.get("alertCDirectionCoded")
    if direction:
        parts.append(_ALERTC_DIRECTION.get(direction, direction))
    return " ".join(parts)


_AXES = ("latitude", "longitude")

_POINT_CONTAINERS: dict[str, str] = {
    "pointByCoordinates": "point",
    "linearCoordinatesStartPoint": "start",
    "linearCoordinatesEndPoint": "end",
    "locationForDisplay": "display",
}
"""Elements whose latitude/longitude (directly or in ``pointCoordinates``) fill one geometry slot."""

_LOCATION_HANDLERS: dict[str, Any] = {
    "roadNumber": _Location._road_number,
    "roadName": _Location._road_name,
    "fromPoint": _Location._stake_container,
    "toPoint": _Location._stake_container,
    "pointAlongLinearElement": _Location._stake_container,
    "distanceAlongLinearElement": _Location._distance,
    "distanceAlong": _Location._distance,
    "referentIdentifier": _Location._referent,
    "referentName": _Location._referent,
    "directionRelativeOnLinearSection": _Location._relative_direction,
    "directionOnLinearSection": _Location._relative_direction,
    "directionRelativeAtPoint": _Location._relative_direction,
    "directionBound": _Location._compass,
    "directionBoundOnLinearSection": _Location._compass,
    "directionBoundAtPoint": _Location._compass,
    "tpegDirection": _Location._compass,
    "gmlLineString": _Location._gml,
    "posList": _Location._pos_list,
    "lane": _Location._lane,
    "laneUsage": _Location._lane,
    "alertCLocationTableNumber": _Location._alertc,
    "alertCLocationTableVersion": _Location._alertc,
    "alertCDirectionCoded": _Location._alertc,
    "specificLocation": _Location._alertc,
    "alertCMethod2PrimaryPointLocation": _Location._alertc_point,
    "alertCMethod2SecondaryPointLocation": _Location._alertc_point,
    "alertCMethod4PrimaryPointLocation": _Location._alertc_point,
    "alertCMethod4SecondaryPointLocation": _Location._alertc_point,
    "offsetDistance": _Location._alertc,
    "descriptor": _Location._descriptor,
    "alertCLocationName": _Location._descriptor,
}
"""Location element → what reading it does."""

_LOCATION_TAGS = _TagTable(
    {
        **{name: (handler, name) for name, handler in _LOCATION_HANDLERS.items()},
        **_POINT_CONTAINERS,
        "latitude": 0,
        "longitude": 1,
    }
)
"""Location tag → a (handler, name) pair, a point slot to fill, or a coordinate axis."""

_VALUE_TAGS = _TagTable({"value": True})
"""The tags of the texts in a MultilingualString."""

_GROUP, _COMMENT, _LOCATION = object(), object(), object()

_RECORD_TAGS = _TagTable(
    {
        "situationRecordVersionTime": "version_time",
        "situationRecordCreationTime": "created",
        "severity": "severity",
        "validityStatus": "validity",
        "overallStartTime": "start",
        "overallEndTime": "end",
        "numberOfLanesRestricted": "lanes_restricted",
        "temporarySpeedLimit": "speed",
        "roadOrCarriagewayOrLaneManagementType": "subtype",
        "poorEnvironmentType": "subtype",
        "weatherRelatedRoadConditionType": "subtype",
        "validity": _GROUP,
        "validityTimeSpecification": _GROUP,
        "impact": _GROUP,
        "generalPublicComment": _COMMENT,
        "groupOfLocations": _LOCATION,
        "locationReference": _LOCATION,
    }
)
"""situationRecord tag → the _Record attribute its text fills, or a group to read."""
