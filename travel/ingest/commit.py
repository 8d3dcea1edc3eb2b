"""Committing records: durably to the store first, then announced on the change bus."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from travel.core.errors import BusUnavailable
from travel.core.records import Record
from travel.store.base import Change, ChangeOp, Row, Store
from travel.store.bus import ChangeBus

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CommitReport:
    """How many records a commit created, updated or left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    published: bool = True
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All records seen."""
        return self.created + self.updated + self.unchanged


async def commit(
    store: Store, bus: ChangeBus, records: Sequence[Record], report: CommitReport | None = None
) -> CommitReport:
    """Upsert ``records`` atomically, then publish the changes.

    A bus failure does not undo a durable commit: readers catch up from the store when the bus
    returns, so the failure is logged and reported, not raised.
    """
    return await _published(bus, await store.upsert(records), report or CommitReport())


async def commit_rows(
    store: Store, bus: ChangeBus, rows: Sequence[Row], report: CommitReport | None = None
) -> CommitReport:
    """``commit`` of records serialized beforehand (``travel.store.base.to_rows``), as an import's are."""
    return await _published(bus, await store.upsert_rows(rows), report or CommitReport())


async def _published(bus: ChangeBus, changes: list[Change], report: CommitReport) -> CommitReport:
    """Count committed ``changes`` into ``report`` and publish them (a bus failure is only reported)."""
    ops = Counter(change.op for change in changes)  # counted in C: an import's batches are thousands
    report.created += ops[ChangeOp.CREATED]
    report.updated += ops[ChangeOp.UPDATED]
    report.unchanged += ops[ChangeOp.UNCHANGED]
    for kind, n in Counter(change.kind for change in changes).items():
        report.by_kind[kind.value] = report.by_kind.get(kind.value, 0) + n
    try:
        await bus.publish(changes)
    except BusUnavailable as err:
        report.published = False
        log.warning("committed but not published; readers will catch up", extra={"error": err.detail})
    return report
