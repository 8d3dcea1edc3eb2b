"""Selecting records from a read-model view: a spatial predicate, attribute predicates, order, limit.

Selection works on record ids, which the geo index already holds: a proximity query without
attribute filters never touches the records themselves, and what serves the answer (e.g. cached
GeoJSON) is looked up by id too. A selection is two columns, ids and (for proximity queries) their
distances, rather than a pair per record: a request makes one entry per result, and columns are
sliced and joined whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import compress
from typing import Any, NamedTuple

from travel.core.records import Record
from travel.read.readmodel import KindView
from travel.store.base import BBox


class ByRecord(NamedTuple):
    """A predicate of the record alone (no clock, no request): its verdict is memoized per record version.

    Reading a computed property of a pydantic record costs a few microseconds; the memo, a dict
    lookup. Wrap only long-lived functions (a module's), never one made per request: the view keeps
    one memo table per function.
    """

    test: Callable[[Record], bool]


class Selection(NamedTuple):
    """Selected record ids in answer order and, for proximity queries, their metres (else None)."""

    ids: list[str]
    distances: list[float] | None


def select(
    view: KindView,
    *,
    bbox: BBox | None = None,
    near: tuple[float, float, float] | None = None,
    keep: Callable[[Record], bool] | ByRecord | None = None,
    order: Callable[[Record], Any] | None = None,
    limit: int | None = None,
) -> Selection:
    """Records of ``view`` matching the spatial predicate and ``keep`` (None: every record).

    ``near`` = (lon, lat, radius_m): results nearest first with distances; otherwise ``order``
    (default: id) decides, memoized per record (timestamps of aware datetimes cost more than the lookup).
    """
    if near is not None:
        ids, metres = view.index.columns_within(*near)
        if keep is None:
            return Selection(ids[:limit], metres[:limit])
        return _kept_nearest(view, ids, metres, keep, limit)
    if bbox is not None:
        candidates = view.index.in_bbox(bbox.west, bbox.south, bbox.east, bbox.north)
    else:
        candidates = list(view.records)
    matched = candidates if keep is None else list(compress(candidates, _verdicts(view, candidates, keep)))
    if order is None:
        matched.sort()
    else:
        matched.sort(key=view.derived(order, matched).__getitem__)
    return Selection(matched[:limit], None)


def _verdicts(view: KindView, ids: list[str], keep: Callable[[Record], bool] | ByRecord) -> Iterator[bool]:
    """Whether ``keep`` accepts each id's record, lazily (a ``ByRecord``'s from its memo, filled for ``ids``)."""
    if isinstance(keep, ByRecord):
        return map(view.derived(keep.test, ids).__getitem__, ids)
    return map(keep, map(view.records.__getitem__, ids))


def _kept_nearest(
    view: KindView, ids: list[str], metres: list[float], keep: Callable[[Record], bool] | ByRecord,
    limit: int | None,
) -> Selection:
    """The ids (nearest first) whose records ``keep`` accepts, stopping at ``limit``.

    A plain predicate is not called past the limit; a ``ByRecord``'s memo is filled for every id first.
    """
    kept: list[str] = []
    distances: list[float] = []
    for i, d, ok in zip(ids, metres, _verdicts(view, ids, keep), strict=True):
        if ok:
            kept.append(i)
            distances.append(d)
            if len(kept) == limit:
                break
    return Selection(kept, distances)
