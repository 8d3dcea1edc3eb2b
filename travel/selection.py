"""Selecting records from a read-model view: a spatial predicate, attribute predicates, order, limit.

Selection works on record ids, which the geo index already holds: a proximity query without
attribute filters never touches the records themselves, and what serves the answer (e.g. cached
GeoJSON) is looked up by id too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from travel.models import Record
from travel.readmodel import KindView
from travel.store.base import BBox

# A selected record's id and, for proximity queries, its distance in metres. A plain tuple: a
# request makes one per result, and a frozen dataclass costs ~20 times as much to create.
Hit = tuple[str, float | None]


def select(
    view: KindView,
    *,
    bbox: BBox | None = None,
    near: tuple[float, float, float] | None = None,
    keep: Callable[[Record], bool] | None = None,
    order: Callable[[Record], Any] | None = None,
    limit: int | None = None,
) -> Sequence[Hit]:
    """Records of ``view`` matching the spatial predicate and ``keep`` (None: every record).

    ``near`` = (lon, lat, radius_m): results nearest first with distances; otherwise ``order``
    (default: id) decides, memoized per record (timestamps of aware datetimes cost more than the lookup).
    """
    records = view.records
    if near is not None:
        return _nearest(records, view.index.within(*near), keep, limit)
    if bbox is not None:
        candidates: Iterable[str] = view.index.in_bbox(bbox.west, bbox.south, bbox.east, bbox.north)
    else:
        candidates = records
    matched = list(candidates) if keep is None else [i for i in candidates if keep(records[i])]
    if order is None:
        matched.sort()
    else:
        matched.sort(key=view.derived(order, matched).__getitem__)
    return [(i, None) for i in matched[:limit]]


def _nearest(
    records: dict[str, Record], found: list[tuple[str, float]], keep: Callable[[Record], bool] | None,
    limit: int | None,
) -> list[tuple[str, float]]:
    """Hits in ``found``'s (distance) order, stopping at ``limit``."""
    if keep is None:
        return found[:limit]
    hits = []
    for i, d in found:
        if keep(records[i]):
            hits.append((i, d))
            if len(hits) == limit:
                break
    return hits
