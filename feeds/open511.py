"""Open511 road events (JSON or XML) → :class:`RoadEvent`.

Open511 (open511.org, v1) publishes ``{"events": [...], "pagination": {...}, "meta": {...}}`` in
JSON, or ``<open511><events><event>…</event></events></open511>`` in XML with GML geography. The
format is chosen by the first non-blank byte after a BOM (``<`` XML, ``{`` JSON). XML elements are
read into the JSON shape first, so both go through one mapping:

- ``id`` → ``source_id`` as given (``hngs.gov.cn/2026-1123-001``); an id with whitespace is rejected.
- ``event_type`` → type (``EVENT_TYPES``), but ``closure`` whenever a ``roads[].state`` is CLOSED.
- ``severity`` → severity (``SEVERITIES``; absent → unknown).
- ``status`` ARCHIVED → cleared; ACTIVE → active, or planned while its schedule starts after
  ``ctx.received_at`` (Open511's ACTIVE covers "current or scheduled").
- ``headline`` and ``description`` → description (one line each; the headline alone when there is no
  description).
- ``updated`` (else ``created``) → ``updated_at`` and ``version``.
- ``schedule.intervals[0]`` ``start/end`` (an open end ``…+08:00/`` allowed) → start_time/expected_end;
  without intervals, ``recurring_schedules[0]``: ``start_date`` at ``daily_start_time`` (00:00 when
  absent) → start_time and ``end_date`` at ``daily_end_time`` (23:59:59 when absent) →
  expected_end. Those are local times, read in ``ctx.zone``; without one the event is rejected.
  Later intervals, weekdays and exceptions are not represented.
- ``geography`` (GeoJSON Point/LineString/MultiLineString/Polygon…) → geometry as given.
- ``roads[0].name`` → road code and name (``G4``, ``G4京港澳高速``, ``京港澳高速(G4)``; words without a
  code stay the name and lead location_text); ``from``/``to`` → location_text ``从 … 到 …``;
  ``direction`` → direction_text (``DIRECTIONS``; BOTH also sets direction both); ``state`` and
  ``lanes_open`` → lanes_affected.
- ``+linear_reference_km`` (an extension, on the event or on ``roads[0]``) → start_stake_m (km → m).
  Every other ``+`` extension is ignored.
- ``restrictions[]`` (on the event or on any road; ``restriction_type`` or ``type`` with ``value``, in
  Open511's metric units) → Restrictions (HEIGHT m, WEIGHT t, AXLE_WEIGHT t) and SPEED →
  reduced_speed_kmh. WIDTH and LENGTH have no field and are ignored.

An unknown value of a closed list (event type, status, severity, direction, road state, restriction
type) rejects its event, naming the field and value. ``snapshot`` is True unless ``pagination`` has a
``next_url``/``next`` link (one page of several).

XML geography: ``gml:Point`` (``gml:pos`` or ``gml:coordinates``), ``gml:LineString`` (``gml:posList``,
``gml:pos``… or ``gml:coordinates``), ``gml:Polygon`` and ``gml:MultiCurve``/``gml:MultiLineString``.
Axis order follows the ``srsName``: none, ``EPSG:4326``, ``…/epsg.xml#4326`` and CRS84 are read
longitude first, as Open511's own examples (and its JSON) write them; the URN/URI forms
``urn:ogc:def:crs:EPSG::4326`` and ``http://www.opengis.net/def/crs/EPSG/0/4326`` are read latitude
first, as EPSG defines that axis order. Any other CRS rejects the event. Elements in a namespace
other than the root's are extensions and read as ``+name``. DTDs and entities are refused
(:func:`feeds.base.parse_xml`). ``areas``, ``event_subtypes``, ``jurisdiction`` and links are not used.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from pydantic import ValidationError

from feeds._roads import (
    dicts,
    from_to,
    geojson,
    join_text,
    load_json_object,
    lookup,
    opt_dict,
    opt_number,
    opt_str,
    req_str,
    too_deep,
)
from feeds.base import (
    FeedError,
    ParseContext,
    Parsed,
    children,
    local,
    namespace,
    parse_time,
    parse_xml,
    split_road,
    text,
    validation_reason,
    version_of,
)
from travel.core.records import Direction, EventStatus, EventType, Restrictions, RoadEvent, Severity

EVENT_TYPES: dict[str, EventType] = {
    "CONSTRUCTION": EventType.CONSTRUCTION,
    "INCIDENT": EventType.ACCIDENT,
    "SPECIAL_EVENT": EventType.CONTROL,
    "WEATHER_CONDITION": EventType.WEATHER,
    "ROAD_CONDITION": EventType.HAZARD,
}
SEVERITIES: dict[str, Severity] = {
    "MINOR": Severity.MINOR,
    "MODERATE": Severity.MODERATE,
    "MAJOR": Severity.MAJOR,
    "UNKNOWN": Severity.UNKNOWN,
}
STATUSES: dict[str, EventStatus] = {"ACTIVE": EventStatus.ACTIVE, "ARCHIVED": EventStatus.CLEARED}
DIRECTIONS: dict[str, tuple[Direction, str | None]] = {
    "N": (Direction.UNKNOWN, "北向"),
    "S": (Direction.UNKNOWN, "南向"),
    "E": (Direction.UNKNOWN, "东向"),
    "W": (Direction.UNKNOWN, "西向"),
    "BOTH": (Direction.BOTH, "双向"),
    "NONE": (Direction.UNKNOWN, None),
}
ROAD_STATES: dict[str, str] = {
    "CLOSED": "道路封闭",
    "SOME_LANES_CLOSED": "部分车道封闭",
    "SINGLE_LANE_ALTERNATING": "单车道交替通行",
    "ALL_LANES_OPEN": "全部车道通行",
}
RESTRICTION_FIELDS: dict[str, str | None] = {
    "HEIGHT": "max_height_m",
    "WEIGHT": "max_weight_t",
    "AXLE_WEIGHT": "max_axle_load_t",
    "SPEED": "reduced_speed_kmh",
    "WIDTH": None,
    "LENGTH": None,
}
STAKE_EXTENSION = "+linear_reference_km"

# XML containers whose children are list items (everything else with children is an object).
_XML_LISTS = frozenset({"roads", "restrictions", "intervals", "recurring_schedules", "days", "areas", "event_subtypes"})
_LON_LAT_SRS = frozenset(
    {
        "epsg:4326",
        "http://www.opengis.net/gml/srs/epsg.xml#4326",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    }
)
_LAT_LON_SRS = frozenset({"urn:ogc:def:crs:epsg::4326", "http://www.opengis.net/def/crs/epsg/0/4326"})


def parse(data: bytes, ctx: ParseContext) -> Parsed:
    """Parse one Open511 response (JSON or XML) into road events; bad events are rejected by id."""
    head = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    first = head.lstrip()[:1]
    if first == b"<":
        items, complete, to_dict = _read_xml(data, ctx.charset)
    elif first in (b"{", b"["):
        items, complete, to_dict = _read_json(data, ctx)
    else:
        raise FeedError("not an Open511 document: it starts with neither '{' (JSON) nor '<' (XML)")
    parsed = Parsed(snapshot=complete)
    for index, item in enumerate(items, 1):
        where = _where(index, item)
        try:
            parsed.records.append(_road_event(to_dict(item), ctx))
        except ValidationError as err:
            parsed.reject(where, validation_reason(err))
        except ValueError as err:
            parsed.reject(where, str(err))
        except RecursionError:
            parsed.reject(where, too_deep("the event"))
    return parsed


def _where(index: int, item: Any) -> str:
    ident = text(item, "id") if isinstance(item, Element) else item.get("id") if isinstance(item, dict) else None
    return f"event {index} (id {ident})" if isinstance(ident, str) and ident.strip() else f"event {index}"


# --------------------------------------------------------------------------- documents
def _read_json(data: bytes, ctx: ParseContext) -> tuple[list[Any], bool, Callable[[Any], dict[str, Any]]]:
    doc = load_json_object(data, ctx, "an Open511 document")
    events = doc.get("events")
    if not isinstance(events, list):
        raise FeedError("not an Open511 document: no 'events' array")
    pagination = doc.get("pagination")
    if pagination is not None and not isinstance(pagination, dict):
        raise FeedError("'pagination' must be an object", "pagination")
    has_next = bool(pagination and (pagination.get("next_url") or pagination.get("next")))
    return events, not has_next, _json_event


def _json_event(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"an event must be an object, not {type(item).__name__}")
    return item


def _read_xml(data: bytes, charset: str | None) -> tuple[list[Any], bool, Callable[[Any], dict[str, Any]]]:
    root = parse_xml(data, charset)
    if local(root.tag) != "open511":
        raise FeedError(f"not an Open511 document: the root element is <{local(root.tag)}>, not <open511>")
    containers = children(root, "events")
    if not containers:
        raise FeedError("not an Open511 document: no <events> element")
    events = [e for c in containers for e in children(c, "event")]
    root_ns = namespace(root.tag)
    return events, not _xml_has_next(root), lambda elem: _xml_object(elem, root_ns)


def _xml_has_next(root: Element) -> bool:
    for pagination in children(root, "pagination"):
        if any(link.get("rel") == "next" for link in children(pagination, "link")):
            return True
        if any((e.text or "").strip() for e in children(pagination, "next_url") + children(pagination, "next")):
            return True
    return False


def _xml_object(elem: Element, root_ns: str) -> dict[str, Any]:
    """An XML element in the JSON shape: children by name, lists for Open511's list containers."""
    out: dict[str, Any] = {}
    for c in elem:
        name = local(c.tag)
        key = name if namespace(c.tag) == root_ns else f"+{name}"
        if key in out or name == "link":
            continue  # Open511 repeats no field; links are not used
        out[key] = _xml_value(c, name, root_ns)
    return out


def _xml_value(elem: Element, name: str, root_ns: str) -> Any:
    if name == "geography":
        return _gml_geometry(elem)
    if name in _XML_LISTS:
        return [_xml_value(c, local(c.tag), root_ns) for c in elem]
    if len(elem):
        return _xml_object(elem, root_ns)
    return (elem.text or "").strip() or None


# --------------------------------------------------------------------------- GML → GeoJSON
def _gml_geometry(geography: Element) -> dict[str, Any]:
    shapes = list(geography)
    if len(shapes) != 1:
        raise ValueError(f"geography must hold one GML geometry, not {len(shapes)}")
    return _gml_shape(shapes[0], lat_first=False)


def _gml_shape(elem: Element, lat_first: bool) -> dict[str, Any]:
    lat_first = _lat_first(elem.get("srsName"), lat_first)
    kind = local(elem.tag)
    if kind == "Point":
        return {"type": "Point", "coordinates": _gml_positions(elem, lat_first)[0]}
    if kind in ("LineString", "LinearRing"):
        return {"type": "LineString", "coordinates": _gml_positions(elem, lat_first)}
    if kind == "Polygon":
        rings = [r for part in elem for r in part if local(part.tag) in ("exterior", "interior", "outerBoundaryIs")]
        return {"type": "Polygon", "coordinates": [_gml_shape(r, lat_first)["coordinates"] for r in rings]}
    if kind in ("MultiCurve", "MultiLineString"):
        lines = [line for member in elem for line in member]
        return {"type": "MultiLineString", "coordinates": [_gml_shape(x, lat_first)["coordinates"] for x in lines]}
    raise ValueError(f"geography: GML {kind} is not supported")


def _lat_first(srs: str | None, inherited: bool) -> bool:
    if srs is None:
        return inherited
    name = srs.strip().lower()
    if name in _LAT_LON_SRS:
        return True
    if name in _LON_LAT_SRS:
        return False
    raise ValueError(f"geography: srsName {srs!r} is not WGS84 (EPSG:4326 or CRS84)")


def _gml_positions(elem: Element, lat_first: bool) -> list[list[float]]:
    """Positions of a GML Point/LineString/LinearRing as [lon, lat] pairs."""
    numbers: list[str]
    dimension = 2
    pos_list = [c for c in elem if local(c.tag) == "posList"]
    coordinates = [c for c in elem if local(c.tag) == "coordinates"]
    if pos_list:
        dimension = _dimension(pos_list[0].get("srsDimension") or elem.get("srsDimension"))
        numbers = (pos_list[0].text or "").split()
    elif coordinates:
        tuples = (coordinates[0].text or "").split()
        numbers = [n for t in tuples for n in t.split(",")[:2]]
    else:
        numbers = [n for c in elem if local(c.tag) == "pos" for n in (c.text or "").split()[:2]]
    try:
        values = [float(n) for n in numbers]
    except ValueError:
        raise ValueError(f"geography: GML {local(elem.tag)} has a coordinate that is not a number") from None
    if not values or len(values) % dimension:
        raise ValueError(f"geography: GML {local(elem.tag)} has {len(values)} numbers, not pairs of coordinates")
    pairs = [values[i : i + 2] for i in range(0, len(values), dimension)]
    return [[b, a] for a, b in pairs] if lat_first else pairs


def _dimension(value: str | None) -> int:
    if value in (None, "2"):
        return 2
    if value == "3":
        return 3
    raise ValueError(f"geography: srsDimension {value!r} is not supported")


# --------------------------------------------------------------------------- one event
def _road_event(event: dict[str, Any], ctx: ParseContext) -> RoadEvent:
    source_id = req_str(event, "id")
    if any(ch.isspace() for ch in source_id):
        raise ValueError(f"id {source_id!r} contains whitespace")
    roads = dicts(event, "roads")
    event_type = _lookup(EVENT_TYPES, req_str(event, "event_type"), "event_type")
    if any(_road_state(road) == "CLOSED" for road in roads):
        event_type = EventType.CLOSURE
    updated = opt_str(event, "updated") or opt_str(event, "created")
    if updated is None:
        raise ValueError("updated (and created) is missing")
    updated_at = parse_time(updated, ctx, "updated")
    start, end = _schedule(opt_dict(event, "schedule"), ctx)
    restrictions, speed = _restrictions(event, roads)
    return RoadEvent(
        id=f"{ctx.source}:{source_id}",
        source=ctx.source,
        source_id=source_id,
        version=version_of(updated_at),
        updated_at=updated_at,
        geometry=geojson(event["geography"], "geography") if event.get("geography") is not None else None,
        type=event_type,
        severity=_lookup(SEVERITIES, opt_str(event, "severity") or "UNKNOWN", "severity"),
        status=_status(req_str(event, "status"), start, ctx.received_at),
        description=_description(event),
        start_time=start,
        expected_end=end,
        start_stake_m=_stake(event, roads),
        restrictions=restrictions,
        reduced_speed_kmh=speed,
        **(_road_fields(roads[0]) if roads else {}),
    )


def _lookup(table: dict[str, Any], value: str, field: str) -> Any:
    return lookup(table, value.upper(), value, field)


def _description(event: dict[str, Any]) -> str:
    text = join_text(opt_str(event, "headline"), opt_str(event, "description"), sep="\n")
    if text is None:
        raise ValueError("headline and description are both missing")
    return text


def _road_state(road: dict[str, Any]) -> str | None:
    state = opt_str(road, "state")
    if state is None:
        return None
    _lookup(ROAD_STATES, state, "roads[].state")
    return state.upper()


def _status(value: str, start: datetime | None, received_at: datetime) -> EventStatus:
    status = _lookup(STATUSES, value, "status")
    if status is EventStatus.ACTIVE and start is not None and start > received_at:
        return EventStatus.PLANNED
    return status


def _schedule(schedule: dict[str, Any], ctx: ParseContext) -> tuple[datetime | None, datetime | None]:
    intervals = schedule.get("intervals") or []
    if not isinstance(intervals, list):
        raise ValueError("schedule.intervals must be an array")
    if intervals:
        return _interval(intervals[0], ctx)
    recurring = dicts(schedule, "recurring_schedules")
    if recurring:
        return _recurring(recurring[0], ctx)
    return None, None


def _interval(value: Any, ctx: ParseContext) -> tuple[datetime | None, datetime | None]:
    """``start/end`` with either end open (``2026-11-24T08:00+08:00/``)."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise ValueError(f"schedule interval {value!r} is not 'start/end'")
    start, end = (part.strip() for part in value.split("/"))
    return (
        parse_time(start, ctx, "schedule interval start") if start else None,
        parse_time(end, ctx, "schedule interval end") if end else None,
    )


def _recurring(rule: dict[str, Any], ctx: ParseContext) -> tuple[datetime | None, datetime | None]:
    """First day's daily start → start_time; last day's daily end → expected_end (local times)."""
    start_date, end_date = req_str(rule, "start_date"), opt_str(rule, "end_date")
    start_time = opt_str(rule, "daily_start_time") or "00:00"
    start = parse_time(f"{start_date}T{start_time}", ctx, "recurring schedule start")
    if end_date is None:
        return start, None
    end_time = opt_str(rule, "daily_end_time") or "23:59:59"
    return start, parse_time(f"{end_date}T{end_time}", ctx, "recurring schedule end")


def _road_fields(road: dict[str, Any]) -> dict[str, Any]:
    """Road code/name, location words, direction and lane state of the first road."""
    name = opt_str(road, "name")
    code, road_name = split_road(name) if name else (None, None)
    direction, direction_text = _lookup(DIRECTIONS, opt_str(road, "direction") or "NONE", "roads[].direction")
    state = _road_state(road)
    lanes_open = opt_number(road, "lanes_open")
    lanes_text = f"开放{lanes_open:g}条车道" if lanes_open is not None else None
    return {
        "road": code,
        "road_name": road_name,
        "direction": direction,
        "direction_text": direction_text,
        "location_text": join_text(
            None if code else road_name, from_to(opt_str(road, "from"), opt_str(road, "to")), sep=" "
        ),
        "lanes_affected": join_text(ROAD_STATES[state] if state else None, lanes_text),
    }


def _stake(event: dict[str, Any], roads: list[dict[str, Any]]) -> float | None:
    km = opt_number(event, STAKE_EXTENSION)
    if km is None and roads:
        km = opt_number(roads[0], STAKE_EXTENSION)
    return None if km is None else round(km * 1000.0, 3)


def _restrictions(event: dict[str, Any], roads: list[dict[str, Any]]) -> tuple[Restrictions | None, float | None]:
    limits: dict[str, float] = {}
    for owner in (event, *roads):
        for item in dicts(owner, "restrictions"):
            kind = opt_str(item, "restriction_type") or req_str(item, "type")
            field = _lookup(RESTRICTION_FIELDS, kind, "restriction type")
            value = opt_number(item, "value")
            if field is not None and value is not None:
                limits[field] = min(value, limits.get(field, value))
    speed = limits.pop("reduced_speed_kmh", None)
    return (Restrictions(**limits) if limits else None), speed
