"""Selecting records from a read-model view: a spatial predicate, attribute predicates, order, limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from travel.models import Record
from travel.readmodel import KindView
from travel.store.base import BBox


@dataclass(frozen=True, slots=True)
class Hit:
    """A selected record and, for proximity queries, its distance in metres."""

    record: Record
    distance_m: float | None = None


def select(
    view: KindView,
    *,
    bbox: BBox | None = None,
    near: tuple[float, float, float] | None = None,
    keep: Callable[[Record], bool] | None = None,
    order: Callable[[Record], Any] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Records of ``view`` matching the spatial predicate and ``keep``.

    ``near`` = (lon, lat, radius_m): results nearest first with distances; otherwise ``order``
    (default: id) decides.
    """
    records = view.records
    if near is not None:
        lon, lat, radius = near
        hits: Iterable[Hit] = (Hit(records[i], d) for i, d in view.index.within(lon, lat, radius))
        chosen = [h for h in hits if keep is None or keep(h.record)]
        return chosen[:limit] if limit is not None else chosen
    if bbox is not None:
        found = view.index.in_bbox(bbox.west, bbox.south, bbox.east, bbox.north)
        candidates: Iterable[Record] = (records[i] for i in found)
    else:
        candidates = records.values()
    matched = [r for r in candidates if keep is None or keep(r)]
    if order is None:
        matched.sort(key=_record_id)
    else:
        matched.sort(key=lambda r: view.cached(r, order))
    if limit is not None:
        matched = matched[:limit]
    return [Hit(r) for r in matched]


def _record_id(record: Record) -> str:
    return record.id
