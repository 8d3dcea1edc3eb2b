"""WZDx work-zone feeds (GeoJSON) → :class:`RoadEvent`.

The Work Zone Data Exchange (WZDx) WorkZoneFeed v4.0–v4.2 is a GeoJSON FeatureCollection with a
``feed_info`` object and one RoadEventFeature per work zone or detour; v3.x feeds (flat
``properties`` with ``road_event_id``, ``road_event_feed_info``, ``reduced_speed_limit`` in mph) are
read too. A feed lists every current road event of its publisher, so ``snapshot`` is True.

Each feature (``core_details`` in v4, the ``properties`` themselves in v3):

- ``id`` (v3: ``road_event_id``) → ``source_id``.
- ``event_type`` → type (``EVENT_TYPES``); a work zone whose ``vehicle_impact`` is all-lanes-closed
  is a closure.
- ``road_names[0]`` → road code and name (``G4``, ``G4京港澳高速``, ``京港澳高速(G4)``).
- ``direction`` → direction_text in Chinese (``DIRECTIONS``); direction stays unknown, since compass
  directions say nothing about stake numbering.
- ``description``, else ``name``, else a composed ``<road>施工作业区`` (detours: ``<road>绕行``).
- ``start_date``/``end_date`` → start_time/expected_end; the status is planned before the start,
  cleared after the end and active in between, judged at ``ctx.received_at``.
- ``update_date`` → ``updated_at``/``version``, falling back to ``feed_info.update_date``.
- ``vehicle_impact`` → lanes_affected in Chinese (``VEHICLE_IMPACTS``).
- ``beginning_milepost``/``ending_milepost`` → start/end_stake_m. In this (Chinese) profile mileposts
  are kilometres along the road's stake numbering (K650+200 is 650.2), not US miles.
- ``reduced_speed_limit_kph`` → reduced_speed_kmh; ``reduced_speed_limit_mph`` and v3's
  ``reduced_speed_limit`` are miles per hour and converted.
- ``restrictions[]`` ``{type, value, unit}``: reduced-height → max_height_m, reduced-weight and
  gross-weight-limit → max_weight_t, axle-load-limit → max_axle_load_t, converted from ``UNITS``
  (metres and tonnes when no unit is given). The other WZDx restriction types (no-trucks, hov-2…)
  have no field and are ignored.
- ``beginning_cross_street``/``ending_cross_street`` → location_text ``从 … 到 …``.
- geometry: LineString (or Point) as given; MultiPoint → a LineString through its points, one point
  → Point.

An unknown value of a WZDx enumeration (event type, direction, vehicle impact, restriction type or
unit) rejects its feature, naming field and value. Not used: lanes, types_of_work, worker_presence,
related road events, the *_verified flags, severity (WZDx has none: unknown), FieldDevice and
RoadRestriction feeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from feeds._roads import (
    dicts,
    from_to,
    geojson,
    join_text,
    load_json_object,
    lookup,
    opt_dict,
    opt_list,
    opt_number,
    opt_str,
    req_str,
    too_deep,
)
from feeds.base import FeedError, ParseContext, Parsed, parse_time, split_road, validation_reason, version_of
from travel.core.records import EventStatus, EventType, Restrictions, RoadEvent

SUPPORTED_MAJOR_VERSIONS = ("3", "4")
EVENT_TYPES: dict[str, EventType] = {
    "work-zone": EventType.CONSTRUCTION,
    "detour": EventType.CONTROL,
    "restriction": EventType.CONTROL,  # v3
}
COMPOSED_DESCRIPTIONS: dict[EventType, str] = {EventType.CONTROL: "绕行"}
DEFAULT_DESCRIPTION = "施工作业区"
DIRECTIONS: dict[str, str | None] = {
    "northbound": "北向",
    "southbound": "南向",
    "eastbound": "东向",
    "westbound": "西向",
    "inner-loop": "内环",
    "outer-loop": "外环",
    "undefined": None,
    "unknown": None,
}
VEHICLE_IMPACTS: dict[str, str | None] = {
    "all-lanes-closed": "全部车道封闭",
    "some-lanes-closed": "部分车道封闭",
    "some-lanes-closed-merge-left": "部分车道封闭，向左并道",
    "some-lanes-closed-merge-right": "部分车道封闭，向右并道",
    "some-lanes-closed-split": "部分车道封闭，分流通行",
    "all-lanes-open": "全部车道通行",
    "all-lanes-open-shift-left": "全部车道通行，向左偏移",
    "all-lanes-open-shift-right": "全部车道通行，向右偏移",
    "alternating-one-way": "单车道交替通行",
    "flagging": "人工指挥交替通行",
    "temporary-traffic-signal": "临时信号灯控制通行",
    "unknown": None,
}
ALL_LANES_CLOSED = "all-lanes-closed"
# restriction type → (Restrictions field, "length" | "mass"); None: a WZDx type with no field here.
RESTRICTION_FIELDS: dict[str, tuple[str, str] | None] = {
    "reduced-height": ("max_height_m", "length"),
    "reduced-weight": ("max_weight_t", "mass"),
    "gross-weight-limit": ("max_weight_t", "mass"),
    "axle-load-limit": ("max_axle_load_t", "mass"),
    "reduced-width": None,
    "reduced-length": None,
    "no-trucks": None,
    "travel-peak-hours-only": None,
    "hov-3": None,
    "hov-2": None,
    "no-parking": None,
    "towing-prohibited": None,
    "permitted-oversize-loads-prohibited": None,
    "local-access-only": None,
}
# unit → (quantity, factor to metres or tonnes); "tons" are US short tons.
UNITS: dict[str, tuple[str, float]] = {
    "feet": ("length", 0.3048),
    "inches": ("length", 0.0254),
    "centimeters": ("length", 0.01),
    "meters": ("length", 1.0),
    "pounds": ("mass", 0.00045359237),
    "tons": ("mass", 0.90718474),
    "kilograms": ("mass", 0.001),
    "metric-tons": ("mass", 1.0),
}
DEFAULT_UNITS = {"length": "meters", "mass": "metric-tons"}
KMH_PER_MPH = 1.609344


def parse(data: bytes, ctx: ParseContext) -> Parsed:
    """Parse one WZDx feed into road events; a bad feature is rejected by index and id."""
    doc = load_json_object(data, ctx, "a WZDx feed")
    feed_info = doc.get("feed_info", doc.get("road_event_feed_info"))
    if not isinstance(feed_info, dict):
        raise FeedError("not a WZDx feed: no feed_info object")
    _check_version(feed_info)
    features = doc.get("features")
    if doc.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise FeedError("not a WZDx feed: not a GeoJSON FeatureCollection with a features array")
    parsed = Parsed(snapshot=True)
    for index, feature in enumerate(features, 1):
        where = _where(index, feature)
        try:
            parsed.records.append(_road_event(feature, feed_info, ctx))
        except ValidationError as err:
            parsed.reject(where, validation_reason(err))
        except ValueError as err:
            parsed.reject(where, str(err))
        except RecursionError:
            parsed.reject(where, too_deep("the feature"))
    return parsed


def _check_version(feed_info: dict[str, Any]) -> None:
    version = feed_info.get("version")
    if version is not None and not str(version).startswith(SUPPORTED_MAJOR_VERSIONS):
        raise FeedError(f"WZDx version {version!r} is not supported (v3 and v4 are)", "feed_info.version")


def _where(index: int, feature: Any) -> str:
    try:
        return f"feature {index} (id {_feature_id(feature)})"
    except ValueError:
        return f"feature {index}"


def _feature_id(feature: Any) -> str:
    if not isinstance(feature, dict):
        raise ValueError(f"a feature must be an object, not {type(feature).__name__}")
    ident = feature.get("id")
    if ident is None and isinstance(feature.get("properties"), dict):
        ident = feature["properties"].get("road_event_id")  # v3
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str) or not ident.strip():
        raise ValueError("id is missing")
    if any(ch.isspace() for ch in ident.strip()):
        raise ValueError(f"id {ident!r} contains whitespace")
    return ident.strip()


# --------------------------------------------------------------------------- one feature
def _road_event(feature: Any, feed_info: dict[str, Any], ctx: ParseContext) -> RoadEvent:
    source_id = _feature_id(feature)
    props = opt_dict(feature, "properties")
    if not props:
        raise ValueError("properties is missing")
    core = opt_dict(props, "core_details") or props  # v3 has no core_details
    impact = _lookup(VEHICLE_IMPACTS, opt_str(props, "vehicle_impact") or "unknown", "vehicle_impact")
    event_type = _lookup(EVENT_TYPES, req_str(core, "event_type"), "event_type")
    if event_type is EventType.CONSTRUCTION and opt_str(props, "vehicle_impact") == ALL_LANES_CLOSED:
        event_type = EventType.CLOSURE
    road, road_name = split_road(_road_words(core))
    start = parse_time(req_str(props, "start_date"), ctx, "start_date")
    end = parse_time(req_str(props, "end_date"), ctx, "end_date")
    updated_at = _updated_at(core, feed_info, ctx)
    start_stake, end_stake = (_stake_m(props, f"{side}_milepost") for side in ("beginning", "ending"))
    return RoadEvent(
        id=f"{ctx.source}:{source_id}",
        source=ctx.source,
        source_id=source_id,
        version=version_of(updated_at),
        updated_at=updated_at,
        geometry=_geometry(feature.get("geometry")),
        type=event_type,
        status=_status(start, end, ctx.received_at),
        road=road,
        road_name=road_name,
        direction_text=_lookup(DIRECTIONS, opt_str(core, "direction") or "unknown", "direction"),
        start_stake_m=start_stake,
        end_stake_m=end_stake,
        description=_description(core, event_type, join_text(road, road_name, sep="") or ""),
        start_time=start,
        expected_end=end,
        lanes_affected=impact,
        location_text=join_text(
            None if road else road_name,
            from_to(opt_str(props, "beginning_cross_street"), opt_str(props, "ending_cross_street")),
            sep=" ",
        ),
        restrictions=_restrictions(dicts(props, "restrictions")),
        reduced_speed_kmh=_speed_kmh(props),
    )


def _lookup(table: dict[str, Any], value: str, field: str) -> Any:
    return lookup(table, value.lower(), value, field)


def _road_words(core: dict[str, Any]) -> str:
    names = opt_list(core, "road_names") or ([core["road_name"]] if core.get("road_name") else [])  # v2/v3
    if not names or not isinstance(names[0], str) or not names[0].strip():
        raise ValueError("road_names is missing or its first entry is not a name")
    return names[0].strip()


def _updated_at(core: dict[str, Any], feed_info: dict[str, Any], ctx: ParseContext) -> datetime:
    own = opt_str(core, "update_date")
    if own is not None:
        return parse_time(own, ctx, "update_date")
    fallback = opt_str(feed_info, "update_date")
    if fallback is None:
        raise ValueError("update_date is missing, in the feature and in feed_info")
    return parse_time(fallback, ctx, "feed_info.update_date")


def _status(start: datetime, end: datetime, now: datetime) -> EventStatus:
    if start > now:
        return EventStatus.PLANNED
    if end < now:
        return EventStatus.CLEARED
    return EventStatus.ACTIVE


def _description(core: dict[str, Any], event_type: EventType, road: str) -> str:
    given = opt_str(core, "description") or opt_str(core, "name")
    return given or f"{road}{COMPOSED_DESCRIPTIONS.get(event_type, DEFAULT_DESCRIPTION)}"


def _stake_m(props: dict[str, Any], key: str) -> float | None:
    km = opt_number(props, key)
    return None if km is None else round(km * 1000.0, 3)


def _speed_kmh(props: dict[str, Any]) -> float | None:
    kph = opt_number(props, "reduced_speed_limit_kph")
    if kph is not None:
        return kph
    mph = opt_number(props, "reduced_speed_limit_mph")
    if mph is None:
        mph = opt_number(props, "reduced_speed_limit")  # v3
    return None if mph is None else round(mph * KMH_PER_MPH, 1)


def _restrictions(items: list[dict[str, Any]]) -> Restrictions | None:
    limits: dict[str, float] = {}
    for item in items:
        target = _lookup(RESTRICTION_FIELDS, req_str(item, "type"), "restriction type")
        value = opt_number(item, "value")
        if target is None or value is None:
            continue
        field, quantity = target
        unit = opt_str(item, "unit") or DEFAULT_UNITS[quantity]
        unit_quantity, factor = _lookup(UNITS, unit, "restriction unit")
        if unit_quantity != quantity:
            raise ValueError(f"restriction {item['type']!r} cannot be measured in {unit!r}")
        converted = round(value * factor, 3)
        limits[field] = min(converted, limits.get(field, converted))
    return Restrictions(**limits) if limits else None


def _geometry(value: Any) -> dict[str, Any]:
    """LineString or Point as given; MultiPoint as the LineString through its points."""
    geometry = geojson(value, "geometry")
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "MultiPoint":
        if not isinstance(coords, list) or not coords:
            raise ValueError("geometry: a MultiPoint needs at least one position")
        return {"type": "Point", "coordinates": coords[0]} if len(coords) == 1 else {**geometry, "type": "LineString"}
    if kind not in ("LineString", "Point"):
        raise ValueError(f"geometry: {kind!r} is not a LineString or MultiPoint")
    return geometry
