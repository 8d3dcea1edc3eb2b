"""The one path every feed document takes, polled or pushed: parse, link, lifecycle, commit, health.

Lifecycle rules (what a document means beyond its own records):
- a CAP Update supersedes, and a Cancel cancels, the alerts it references (``sender,identifier,sent``);
- in a snapshot document (the source's complete current set), an event, alert or toll notice the
  source published before and that is absent now has ended: a new version says so (cleared / cancelled) and
  the old versions stay in history. A snapshot with rejected items ends nothing, since the rejected
  item may be one of the "absent" records;
- a patch (e.g. a service area's open status) becomes a new version of the record it names, unless
  the record already says that;
- within one document the highest version of a record wins; the same version twice with different
  content is ambiguous, so the later item is rejected (and the snapshot then ends nothing); an equal
  version already stored is a no-op (the store's rule), so re-polling an unchanged feed changes nothing.
A refused document (``FeedError``) or a store failure changes nothing stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

import feeds
from feeds.base import FeedError, ParseContext, Parsed, Patch, validation_reason, version_of
from travel.core.records import Alert, AlertMsgType, EventStatus, Kind, Record, RoadEvent, SourceConfig
from travel.ingest.commit import CommitReport, commit
from travel.ingest.health import HealthBoard
from travel.ingest.linking import Linker, revised
from travel.ingest.sources import zone_of
from travel.read.readmodel import ReadModel
from travel.store.base import Query, Store
from travel.store.bus import ChangeBus

log = logging.getLogger(__name__)

ENDING_KINDS = (Kind.EVENT, Kind.ALERT, Kind.TOLL_NOTICE)
_VOLATILE = frozenset({"version", "updated_at", "ingested_at"})


@dataclass(slots=True)
class Outcome:
    """What one document did."""

    report: CommitReport
    rejected: list[str] = field(default_factory=list)
    ended: int = 0
    patched: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything stored changed."""
        return self.report.created + self.report.updated > 0

    def summary(self) -> dict[str, Any]:
        """Counts for health and for the push endpoint's answer."""
        return {
            "records": self.report.total,
            "created": self.report.created,
            "updated": self.report.updated,
            "unchanged": self.report.unchanged,
            "ended": self.ended,
            "patched": self.patched,
            "rejected": len(self.rejected),
        }


class Ingestor:
    """Takes feed documents into the store, for every source."""

    def __init__(self, store: Store, bus: ChangeBus, model: ReadModel, health: HealthBoard) -> None:
        self.store, self.bus, self.health = store, bus, health
        self.linker = Linker(model)

    async def take(self, config: SourceConfig, data: bytes, charset: str | None = None) -> Outcome:
        """Parse and commit one document of ``config``'s format; FeedError when it is refused."""
        now = datetime.now(UTC)
        ctx = ParseContext(source=config.id, zone=zone_of(config), received_at=now, charset=charset or config.charset)
        try:
            parsed = await asyncio.to_thread(feeds.parse, config.format, data, ctx)
        except FeedError as err:
            log.warning("feed document refused", extra={"source": config.id, "reason": str(err)})
            await self.health.failed(config.id, f"document refused: {err}")
            raise
        outcome = await self._commit(config, parsed, now)
        for reason in outcome.rejected:
            log.warning("feed item rejected", extra={"source": config.id, "reason": reason})
        await self.health.succeeded(config.id, outcome.summary(), outcome.rejected, changed=outcome.changed)
        return outcome

    async def _commit(self, config: SourceConfig, parsed: Parsed, now: datetime) -> Outcome:
        rejected = [str(r) for r in parsed.rejected]
        records = _latest(await self.linker.link(parsed.records), rejected)
        superseded = await self._references(records)
        records = [r for r in records if r.id not in superseded or r.kind is not Kind.ALERT]
        ends = list(superseded.values())
        if parsed.snapshot and not rejected:
            ends += await self._absent(config, records, now)
        elif parsed.snapshot:
            log.info("snapshot with rejected items: nothing ended", extra={"source": config.id})
        patched = await self._patches(parsed.patches, rejected)
        report = await commit(self.store, self.bus, [*records, *ends, *patched])
        return Outcome(report, rejected, ended=len(ends), patched=len(patched))

    async def _references(self, records: list[Record]) -> dict[str, Record]:
        """Alerts ended by the Updates and Cancels among ``records``, by id, oldest message first.

        A referenced alert may be in the same document (a CAP feed lists a whole Alert → Update →
        Cancel chain), so the document is searched before the store.
        """
        in_document = {r.id: r for r in records if isinstance(r, Alert)}
        chain = sorted((a for a in in_document.values() if a.msg_type is not AlertMsgType.ALERT),
                       key=lambda a: a.sent)
        ended: dict[str, Record] = {}
        for alert in chain:
            for reference in alert.references:
                parts = reference.split(",")
                if len(parts) != 3:
                    continue
                target = f"{alert.source}:{parts[1]}"
                current = ended.get(target) or in_document.get(target) or await self.store.get(Kind.ALERT, target)
                if not isinstance(current, Alert) or not current.active or target == alert.id:
                    continue
                how = {"cancelled": True} if alert.msg_type is AlertMsgType.CANCEL else {"superseded_by": alert.id}
                ended[target] = _next_version(current, how, alert.updated_at)
        return ended

    async def _absent(self, config: SourceConfig, records: list[Record], now: datetime) -> list[Record]:
        """Events, alerts and notices of ``config`` still active in the store but absent from this snapshot."""
        kinds = set(config.kinds) or {r.kind for r in records}
        present = {(r.kind, r.id) for r in records}
        ended = []
        for kind in ENDING_KINDS:
            if kind not in kinds:
                continue
            for current in await self.store.query(Query(kind, source=config.id, active=True)):
                if (kind, current.id) in present:
                    continue
                how = {"status": EventStatus.CLEARED} if isinstance(current, RoadEvent) else {"cancelled": True}
                ended.append(_next_version(current, how, now))
        return ended

    async def _patches(self, patches: list[Patch], rejected: list[str]) -> list[Record]:
        """New versions of the records the patches change (unknown or invalid ones are rejected)."""
        out: dict[str, Record] = {}
        for patch in patches:
            current = out.get(patch.id) or await self.store.get(patch.kind, patch.id)
            if current is None:
                rejected.append(f"{patch.kind} {patch.id}: no such record to update")
                continue
            if current.updated_at > patch.updated_at:
                continue  # an older status than the one held
            body = current.model_dump()
            merged = _merge(body, patch.fields)
            if {k: v for k, v in merged.items() if k not in _VOLATILE} == {
                k: v for k, v in body.items() if k not in _VOLATILE
            }:
                continue
            try:
                out[patch.id] = _next_version(current, patch.fields, patch.updated_at, merged=merged)
            except ValidationError as err:
                rejected.append(f"{patch.kind} {patch.id}: {validation_reason(err)}")
        return list(out.values())


def _latest(records: list[Record], rejected: list[str]) -> list[Record]:
    """One record per (kind, id): the highest version in the document; a conflicting equal version is rejected."""
    best: dict[tuple[Kind, str], Record] = {}
    for record in records:
        key = (record.kind, record.id)
        held = best.get(key)
        if held is None or record.version > held.version:
            best[key] = record
        elif record.version == held.version and record != held:
            rejected.append(f"{record.kind} {record.source_id}: appears again with the same version "
                            f"({record.version}) and different content; the first is kept")
    return list(best.values())


def _merge(body: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``fields`` applied; nested objects (facilities) are merged, not replaced."""
    out = dict(body)
    for name, value in fields.items():
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = {**out[name], **value}
        else:
            out[name] = value
    return out


def _next_version(current: Record, update: dict[str, Any], at: datetime, *, merged: dict[str, Any] | None = None
                  ) -> Record:
    """A new version of ``current``: after it in version order, stamped ``at``."""
    at = max(at, current.updated_at)
    stamp = {"version": max(current.version + 1, version_of(at)), "updated_at": at, "ingested_at": None}
    if merged is not None:
        return type(current).model_validate({**merged, **stamp})
    return revised(current, {**update, **stamp})
