"""GeoJSON (RFC 7946) output, with each record's feature serialized once and reused until it changes.

The features are built as bytes in the shapes ``api.features`` declares (and the OpenAPI document shows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from functools import partial
from typing import Any

import orjson

from api.features import Derived, ListMeta
from travel.core.crs import Crs, convert_coordinates
from travel.core.records import Record
from travel.core.stakes import format_stake, format_stake_range
from travel.core.zone import in_zone
from travel.read.readmodel import KindView
from travel.read.selection import Selection

_DISTANCE = b',"distance_m":%.1f}}'  # a proximity query's last property, closing its feature


def extra_properties(record: Record) -> Derived:
    """Derived, human-facing properties: kind, activity, stakes as K650+200."""
    extra: Derived = {"kind": record.kind, "active": record.active}
    stake_range = format_stake_range(getattr(record, "start_stake_m", None), getattr(record, "end_stake_m", None))
    if stake_range is not None:
        extra["stake_range"] = stake_range
    stake = getattr(record, "stake_m", None)
    if stake is not None:
        extra["stake"] = format_stake(stake)
    return extra


def geometry_json(record: Record, crs: Crs) -> bytes:
    """The geometry member in ``crs`` (``null`` when the record has none)."""
    if record.geometry is None:
        return b"null"
    if crs is Crs.WGS84:
        return record.geometry.model_dump_json().encode()
    coords = convert_coordinates(record.geometry.coordinates, crs)
    return orjson.dumps({"type": record.geometry.type.value, "coordinates": coords})


def properties_json(record: Record, zone: tzinfo) -> dict[str, Any]:
    """The record's fields but its geometry as JSON values, its times written in ``zone``."""
    return in_zone(record, zone).model_dump(mode="json", exclude={"geometry"})


def feature_json(record: Record, zone: tzinfo, crs: Crs = Crs.WGS84, extra: dict[str, Any] | None = None) -> bytes:
    """The whole feature: the record's fields (minus geometry), the derived ones and ``extra`` as properties.

    Times are written in ``zone`` here, where the bytes are built (and memoized), so serving costs nothing more.
    One ``orjson.dumps`` of plain data: ~98k instructions a feature, where splicing the record's
    ``model_dump_json`` with the derived properties by hand took ~105k (callgrind, 2026-12).
    """
    properties = {**properties_json(record, zone), **extra_properties(record), **(extra or {})}
    geometry = orjson.Fragment(geometry_json(record, crs))
    return orjson.dumps({"type": "Feature", "id": record.id, "geometry": geometry, "properties": properties})


def feature_open(record: Record, zone: tzinfo, crs: Crs = Crs.WGS84) -> bytes:
    """The feature without its two closing braces (its properties' and its own), so a distance can follow.

    Properties are the feature's last member, so its serialization ends in exactly those two braces.
    """
    return feature_json(record, zone, crs)[:-2]


class Features:
    """Writes records as features with their times in the service's ``zone``; one per app.

    ``opening`` (``feature_open`` in the zone, in WGS84) is built once: it keys the views' memos.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.opening: Callable[[Record], bytes] = partial(feature_open, zone=zone)

    def feature(self, record: Record, crs: Crs = Crs.WGS84, extra: dict[str, Any] | None = None) -> bytes:
        """The whole feature of ``record`` (its version history, say, as ``extra``)."""
        return feature_json(record, self.zone, crs, extra)

    def properties(self, record: Record) -> dict[str, Any]:
        """``record``'s fields but its geometry, its times in the zone (a version in a history)."""
        return properties_json(record, self.zone)

    def _opening(self, view: KindView, record: Record, crs: Crs) -> bytes:
        """The opening of ``record`` in ``crs``, from the view's memo for WGS84 output, the only one worth keeping."""
        return view.cached(record, self.opening) if crs is Crs.WGS84 else feature_open(record, self.zone, crs)

    def openings(self, view: KindView, ids: list[str], crs: Crs) -> list[bytes]:
        """The openings of ``ids`` in ``crs``, memoizing what WGS84 ones are missing."""
        return list(map(partial(self._opening, view, crs=crs), map(view.records.__getitem__, ids)))


def feature_collection(features: Features, view: KindView, selection: Selection, crs: Crs, meta: ListMeta) -> bytes:
    """A FeatureCollection of the selected records; ``meta`` becomes foreign members (count, limit …).

    In WGS84 each feature costs one lookup by id in the view's memo of openings; the features are
    then closed and joined whole, with the distance of a proximity query as their last property.

    Joined by hand, a measured fast path: ``orjson.dumps`` of the collection with each closed feature
    as an ``orjson.Fragment`` gives the same JSON but costs ~30k more instructions a `bench api`
    /v1/pois near-10 km request (~126k → ~156k in the handler) and ~44k more a /v1/events bbox-0.3°
    one (~134k → ~178k): ~7 % and ~10 % of a served request (~430k), which would take those rows
    (0.60–0.65) below their 0.60 target (callgrind, in-process, 2026-12).
    """
    ids = selection.ids
    memo = list(map(view.derived(features.opening).get, ids)) if crs is Crs.WGS84 else None
    parts = memo if memo is not None and None not in memo else features.openings(view, ids, crs)
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
