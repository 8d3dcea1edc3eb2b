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
    """Records of ``view`` matching the spatial predicate and ``keep`` (None: every record).

    ``near`` = (lon, lat, radius_m): results nearest first with distances; otherwise ``order``
    (default: id) decides, memoized per record (timestamps of aware datetimes cost more than the lookup).
    """
    records = view.records
    if near is not None:
        return _nearest(records, view.index.within(*near), keep, limit)
    if bbox is not None:
        found = view.index.in_bbox(bbox.west, bbox.south, bbox.east, bbox.north)
        candidates: Iterable[Record] = [records[i] for i in found]
    else:
        candidates = records.values()
    matched = list(candidates) if keep is None else [r for r in candidates if keep(r)]
    if order is None:
        matched.sort(key=_record_id)
    else:
        cached = view.cached
        matched.sort(key=lambda r: cached(r, order))
    if limit is not None:
        matched = matched[:limit]
    return [Hit(r) for r in matched]


def _nearest(
    records: dict[str, Record], found: list[tuple[str, float]], keep: Callable[[Record], bool] | None,
    limit: int | None,
) -> list[Hit]:
    """Hits in ``found``'s (distance) order, stopping at ``limit``."""
    if keep is None:
        return [Hit(records[i], d) for i, d in found[:limit]]
    hits = []
    for i, d in found:
        record = records[i]
        if keep(record):
            hits.append(Hit(record, d))
            if len(hits) == limit:
                break
    return hits


def _record_id(record: Record) -> str:
    return record.id
