"""The read model: every process's in-memory view of current records, so reads never wait on the store.

Built from the store at start-up and kept current from the change bus (``follow``). Each kind has a
``KindView``: records by id, summaries of the whole view (the ``GeoIndex``, …) built lazily and
dropped on any change, and a cache of derived artefacts (e.g. serialized GeoJSON) that is dropped
per record when that record changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from travel.core.errors import ServiceUnavailable
from travel.core.records import Kind, Record
from travel.read.hub import ChangeHub
from travel.read.index import GeoIndex
from travel.store.base import Change, ChangeOp, Store
from travel.store.bus import ChangeBus

log = logging.getLogger(__name__)
T = TypeVar("T")

# Time series and private records are not mirrored in memory.
MIRRORED_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if k not in (Kind.READING, Kind.SUBSCRIPTION))
# Clock skew tolerated between store writers when catching up after a bus outage.
CATCH_UP_MARGIN = timedelta(seconds=5)


class KindView:
    """Current records of one kind with a geo index and a per-record derived-data cache."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.records: dict[str, Record] = {}
        self.generation = 0
        self._derived: dict[Callable[[Record], Any], dict[str, Any]] = {}
        self._summaries: dict[Callable[[KindView], Any], Any] = {}

    def put(self, record: Record) -> bool:
        """Apply a record version if it is newer than the one held; True when it changed."""
        current = self.records.get(record.id)
        if current is not None and current.version >= record.version:
            return False
        self.records[record.id] = record
        for values in self._derived.values():
            values.pop(record.id, None)
        self._summaries.clear()  # dropped now, not at the next read: an index can be large
        self.generation += 1
        return True

    @property
    def index(self) -> GeoIndex:
        """The geo index of records with geometry (rebuilt after a change, then reused)."""
        return self.summary(_geo_index)

    def derived(self, build: Callable[[Record], T], ids: Iterable[str] = ()) -> dict[str, T]:
        """The memo of ``build``: its value per record id, filled for ``ids`` and any asked before.

        One table per builder, so a request looks a builder up once and then pays one ``dict.get``
        per record; an entry is dropped when its record changes (and refilled when asked again).
        """
        values = self._derived.get(build)
        if values is None:
            values = self._derived[build] = {}
        for i in ids:
            if i not in values:
                values[i] = build(self.records[i])
        return values

    def summary(self, build: Callable[[KindView], T]) -> T:
        """``build(self)`` memoized (per builder) until the view next changes."""
        summaries = self._summaries
        if build not in summaries:
            summaries[build] = build(self)
        return summaries[build]

    def cached(self, record: Record, build: Callable[[Record], T]) -> T:
        """``build(record)`` memoized (per builder) until the record changes."""
        values = self.derived(build)
        value = values.get(record.id)
        if value is None:
            value = values[record.id] = build(record)
        return value

    def __len__(self) -> int:
        return len(self.records)


def _geo_index(view: KindView) -> GeoIndex:
    return GeoIndex.build((r.id, r.geometry.shape) for r in view.records.values() if r.geometry)


class ReadModel:
    """All mirrored kinds, plus the watermark of the newest commit seen."""

    def __init__(self) -> None:
        self.views: dict[Kind, KindView] = {k: KindView(k) for k in MIRRORED_KINDS}
        self.watermark: datetime | None = None
        self.ready = asyncio.Event()
        self.bus_healthy = False
        self.bus_error: str | None = None
        self.hub = ChangeHub()

    def view(self, kind: Kind) -> KindView:
        """The view of one kind."""
        return self.views[kind]

    def apply(self, records: Iterable[Record]) -> int:
        """Apply record versions; returns how many changed the model."""
        changed = 0
        for record in records:
            view = self.views.get(record.kind)
            if view is not None and view.put(record):
                changed += 1
            if record.ingested_at and (self.watermark is None or record.ingested_at > self.watermark):
                self.watermark = record.ingested_at
        return changed

    async def load(self, store: Store) -> None:
        """Load every mirrored kind from the store."""
        for kind in MIRRORED_KINDS:
            batch: list[Record] = []
            async for record in store.iter_kind(kind):
                batch.append(record)
                if len(batch) >= 5000:
                    self.apply(batch)
                    batch.clear()
                    await asyncio.sleep(0)
            self.apply(batch)
        log.info("read model loaded", extra={"counts": self.counts()})

    async def catch_up(self, store: Store) -> int:
        """Apply everything committed since the watermark (after a bus outage), and tell the hub."""
        since = self.watermark - CATCH_UP_MARGIN if self.watermark else None
        changed = 0
        for record in await store.changed_since(since, MIRRORED_KINDS):
            if self.apply([record]):
                changed += 1
                await self.hub.publish(None, Change(ChangeOp.UPDATED, record))
        return changed

    def counts(self) -> dict[str, int]:
        """Records held per kind."""
        return {k.value: len(v) for k, v in self.views.items()}

    def counts_by_source(self) -> dict[str, dict[str, int]]:
        """Active records held per source and kind (for source health), counted once per view change."""
        out: dict[str, dict[str, int]] = {}
        for kind, view in self.views.items():
            for source, n in view.summary(_active_by_source).items():
                out.setdefault(source, {})[kind.value] = n
        return out


def _active_by_source(view: KindView) -> dict[str, int]:
    """Active records of one view per source (``active`` is the record's own state, not the clock's)."""
    counts: dict[str, int] = {}
    for record in view.records.values():
        if record.active:
            counts[record.source] = counts.get(record.source, 0) + 1
    return counts


async def follow(model: ReadModel, store: Store, bus: ChangeBus, *, max_backoff_s: float = 10.0) -> None:
    """Load the model, then follow the bus forever, catching up from the store after any outage.

    The bus position is taken *before* reading the store, so a change committed in between is seen
    either in the store or on the bus (or both: applying twice is a no-op).
    """
    backoff = 0.5
    first = True
    while True:
        try:
            position = await bus.position()
            if first:
                await model.load(store)
                first = False
            else:
                caught = await model.catch_up(store)
                log.info("read model caught up after bus outage", extra={"changed": caught})
            model.ready.set()
            model.bus_healthy, model.bus_error = True, None
            backoff = 0.5
            async for at, change in bus.subscribe(position):
                # Unmirrored kinds (readings) still go to live streams.
                if model.apply([change.record]) or change.kind not in model.views:
                    await model.hub.publish(at, change)
            return  # the bus was stopped
        except ServiceUnavailable as err:
            model.bus_healthy, model.bus_error = False, err.detail
            log.warning("change bus or store unavailable, retrying", extra={"error": err.detail, "retry_s": backoff})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)
