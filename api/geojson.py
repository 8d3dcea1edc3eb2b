"""GeoJSON (RFC 7946) output, with each record's feature serialized once and reused until it changes."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson

from travel.core.crs import Crs, convert_coordinates
from travel.core.records import Record
from travel.core.stakes import format_stake, format_stake_range
from travel.read.readmodel import KindView
from travel.read.selection import Selection

FeatureParts = tuple[bytes, bytes]  # (feature up to its properties object, that object without its closing "}")
_DISTANCE = b',"distance_m":%.1f}}'  # a proximity query's last property, closing its feature


def extra_properties(record: Record) -> dict[str, Any]:
    """Derived, human-facing properties: kind, activity, stakes as K650+200."""
    extra: dict[str, Any] = {"kind": record.kind.value, "active": record.active}
    start = getattr(record, "start_stake_m", None)
    if start is not None:
        extra["stake_range"] = format_stake_range(start, getattr(record, "end_stake_m", None))
    stake = getattr(record, "stake_m", None)
    if stake is not None:
        extra["stake"] = format_stake(stake)
    return extra


def properties_json(record: Record) -> bytes:
    """The properties object: the record's fields (minus geometry) plus derived ones."""
    props = record.model_dump_json(exclude={"geometry"}).encode()
    return props[:-1] + b"," + orjson.dumps(extra_properties(record))[1:]


def geometry_json(record: Record, crs: Crs) -> bytes:
    """The geometry member in ``crs`` (``null`` when the record has none)."""
    if record.geometry is None:
        return b"null"
    if crs is Crs.WGS84:
        return record.geometry.model_dump_json().encode()
    coords = convert_coordinates(record.geometry.coordinates, crs)
    return orjson.dumps({"type": record.geometry.type.value, "coordinates": coords})


def feature_parts(record: Record, crs: Crs = Crs.WGS84) -> FeatureParts:
    """A feature split inside its properties, so a distance or more properties can be appended cheaply."""
    head = b'{"type":"Feature","id":' + orjson.dumps(record.id) + b',"geometry":' + geometry_json(record, crs)
    return head + b',"properties":', properties_json(record)[:-1]


def feature_open(record: Record, crs: Crs = Crs.WGS84) -> bytes:
    """The feature without its two closing braces, so more properties (a distance) can follow it."""
    head, props = feature_parts(record, crs)
    return head + props


def _opening(view: KindView, record: Record, crs: Crs) -> bytes:
    """``feature_open`` from the view's memo for WGS84 output, the only one worth keeping."""
    return view.cached(record, feature_open) if crs is Crs.WGS84 else feature_open(record, crs)


def _openings(view: KindView, ids: list[str], crs: Crs) -> list[bytes]:
    """The openings of ``ids`` in ``crs``, memoizing what WGS84 ones are missing."""
    return list(map(partial(_opening, view, crs=crs), map(view.records.__getitem__, ids)))


def feature(record: Record, crs: Crs, *, extra: dict[str, Any] | None = None) -> bytes:
    """One feature; ``extra`` adds properties (e.g. version history).

    Serialized whole: splicing ``extra`` into the memoized opening saved ~88k instructions (callgrind,
    2026-12) on a request that reads the store for the history anyway, and no benchmark row has it.
    """
    properties = {**record.model_dump(mode="json", exclude={"geometry"}), **extra_properties(record), **(extra or {})}
    return orjson.dumps({"type": "Feature", "id": record.id, "geometry": orjson.Fragment(geometry_json(record, crs)),
                         "properties": properties})


def feature_collection(view: KindView, selection: Selection, crs: Crs, meta: dict[str, Any]) -> bytes:
    """A FeatureCollection of the selected records; ``meta`` becomes foreign members (count, limit …).

    In WGS84 each feature costs one lookup by id in the view's memo of openings; the features are
    then closed and joined whole, with the distance of a proximity query as their last property.
    """
    ids = selection.ids
    memo = list(map(view.derived(feature_open).get, ids)) if crs is Crs.WGS84 else None
    parts = memo if memo is not None and None not in memo else _openings(view, ids, crs)
    head = b'{"type":"FeatureCollection",' + orjson.dumps(meta)[1:-1] + b',"features":['
    if not parts:
        return head + b"]}"
    if selection.distances is None:
        return head + b"}},".join(parts) + b"}}]}"
    # One join of head and (opening, closing with the distance, separator) per feature: each piece is
    # copied once, where adding each distance to its opening first copied every feature twice.
    pieces = [b","] * (3 * len(parts) + 1)
    pieces[0] = head
    pieces[1::3] = parts
    pieces[2::3] = map(_DISTANCE.__mod__, selection.distances)
    pieces[-1] = b"]}"
    return b"".join(pieces)
