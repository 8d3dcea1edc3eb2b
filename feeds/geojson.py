"""GeoJSON feed: a FeatureCollection of road events, POIs or toll notices, in the bundle's own conventions.

The same rules as the reference-data files of ``geodata/README.md``, so a department learns one set:

* each Feature is one record: its ``id`` (string or number) is the ``source_id``, its ``geometry``
  the record's geometry (WGS84 lon/lat), its ``properties`` the record's fields named exactly as in
  ``travel.core.records`` (``RoadEvent``, ``Poi`` or ``TollNotice``, whose geometry is null); ``x_``
  properties are annotations and ignored, any other unknown property rejects the feature, naming it;
* the kind is the collection's ``"kind": "event" | "poi" | "toll_notice"`` or the feature's ``properties.kind``;
* ``updated_at`` is the feature's, else the collection's; ``version`` is the feature's ``version``
  when given, else ``version_of(updated_at)`` (ms since the epoch);
* a collection ``"snapshot": true`` says it lists every current record of its kinds.

Collection members may also sit in a ``metadata`` object as in the bundle files (a top-level
member wins). Times are ISO 8601; a time without an offset takes ``ctx.zone`` or rejects the feature.

Not supported: other record kinds, foreign members mapped to fields, GeoJSON ``bbox`` checks, CRS
other than WGS84 (RFC 7946 has none), and streaming (a feed document is at most 32 MB).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from feeds.base import FeedError, ParseContext, Parsed, load_json, parse_time, validation_reason, version_of
from travel.core.cells import CellError, record_properties
from travel.core.records import Poi, Record, RoadEvent, TollNotice

KINDS: dict[str, type[Record]] = {"event": RoadEvent, "poi": Poi, "toll_notice": TollNotice}
TIME_PROPERTIES = ("updated_at", "start_time", "expected_end", "starts_at", "ends_at")
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)


def parse(data: bytes, ctx: ParseContext) -> Parsed:
    """Records of a GeoJSON FeatureCollection of events or POIs; bad features are rejected one by one."""
    collection = _collection(load_json(data, ctx))
    members = _members(collection)
    try:
        default_kind = _kind(members.get("kind"))
    except ValueError as err:
        raise FeedError(str(err), "FeatureCollection") from err
    default_time = members.get("updated_at")
    if default_time is not None:
        try:
            default_time = parse_time(str(default_time), ctx, "updated_at")
        except (ValueError, OverflowError) as err:
            raise FeedError(str(err), "FeatureCollection") from err
    parsed = Parsed(snapshot=_snapshot(members.get("snapshot")))
    seen: dict[str, int] = {}
    for n, feature in enumerate(collection["features"], 1):
        where = _where(n, feature)
        try:
            parsed.records.append(_record(feature, n, ctx, default_kind, default_time, seen))
        except ValidationError as err:
            parsed.reject(where, validation_reason(err))
        except (ValueError, OverflowError) as err:
            parsed.reject(where, str(err))
    return parsed


def _collection(doc: Any) -> dict[str, Any]:
    """The FeatureCollection object, or FeedError naming what the document is instead."""
    if not isinstance(doc, dict):
        raise FeedError(f"the document is {_json_type(doc)}, not a GeoJSON FeatureCollection")
    shape = doc.get("type")
    if shape != "FeatureCollection":
        raise FeedError(f"the document is {_shape(shape)}, not a GeoJSON FeatureCollection")
    if not isinstance(doc.get("features"), list):
        raise FeedError(f"features is {_json_type(doc.get('features'))}, not an array", "FeatureCollection")
    return doc


def _shape(shape: Any) -> str:
    if shape == "Feature":
        return "a single GeoJSON Feature (wrap it in a FeatureCollection)"
    if isinstance(shape, str) and shape in GEOMETRY_TYPES:
        return f"a bare GeoJSON {shape} geometry"
    return "a JSON object without a type" if shape is None else f"a JSON object of type {shape!r}"


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _members(collection: dict[str, Any]) -> dict[str, Any]:
    """Collection-wide members: top level, else the bundle-style ``metadata`` object."""
    metadata = collection.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise FeedError("metadata must be an object", "FeatureCollection")
    return {**(metadata or {}), **collection}


def _kind(value: Any) -> type[Record] | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in KINDS:
        raise CellError("kind", f"{value!r} is not one of {', '.join(KINDS)}")
    return KINDS[value]


def _snapshot(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise FeedError(f"snapshot must be true or false, not {value!r}", "FeatureCollection")
    return value


def _where(n: int, feature: Any) -> str:
    fid = feature.get("id") if isinstance(feature, dict) else None
    named = isinstance(fid, str | int) and not isinstance(fid, bool) and str(fid).strip()
    return f"feature {n} (id {fid})" if named else f"feature {n}"


def _record(
    feature: Any, n: int, ctx: ParseContext, default_kind: type[Record] | None, default_time: Any,
    seen: dict[str, int],
) -> Record:
    """Validate one Feature into an event, a POI or a toll notice."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError("not a GeoJSON Feature")
    fid = feature.get("id")
    if not isinstance(fid, str | int) or isinstance(fid, bool) or not str(fid).strip():
        raise ValueError("id: the feature has no id")
    source_id = str(fid).strip()
    if source_id in seen:
        raise ValueError(f"id: duplicate id (first used by feature {seen[source_id]})")
    seen[source_id] = n
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties must be an object")
    props = dict(props)
    cls = _kind(props.pop("kind")) if "kind" in props else default_kind
    if cls is None:
        raise ValueError("kind: given neither by the feature nor by the collection")
    fields = record_properties(props)
    for name in TIME_PROPERTIES:
        if fields.get(name) is not None:
            fields[name] = _time(fields[name], ctx, name)
    fields.setdefault("updated_at", default_time)
    if fields["updated_at"] is None:
        raise CellError("updated_at", "given neither by the feature nor by the collection")
    fields.setdefault("version", version_of(fields["updated_at"]))
    if feature.get("geometry") is not None:
        fields["geometry"] = feature["geometry"]
    fields.update(id=f"{ctx.source}:{source_id}", source=ctx.source, source_id=source_id)
    return cls.model_validate(fields)


def _time(value: Any, ctx: ParseContext, name: str) -> Any:
    if not isinstance(value, str):
        raise CellError(name, f"{value!r} is not an ISO 8601 time")
    try:
        return parse_time(value, ctx, "time")
    except ValueError as err:
        raise CellError(name, str(err)) from err
