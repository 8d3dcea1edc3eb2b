"""Import one file of reference data: validate it whole, then commit only what changed.

Two streaming passes, so a bad file leaves the store untouched and a large one never has to fit in
memory: the first reads the file, collecting every bad record (and duplicate ids) and spooling the
valid ones, serialized as the store's rows, batch by batch to a temporary file; only when the file is
clean does the second read the spool back one batch at a time, compare it with the stored current
versions and commit new and changed rows through :func:`travel.ingest.commit_rows`, which neither
rebuilds nor re-serializes a record. A changed record gets the stored version + 1,
so it supersedes the old one; a record whose content is unchanged is not written at all.

Records are built by ``geodata.loader``'s two steps, not its public readers, because those stop at
the first bad record and an import reports them all. This process reads the file (the duplicate-id
check needs all of it); validating and serialising chunks of it is shared with a worker process once
a file is large enough to repay starting one, the results spooled in file order (see ``_shared``).
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import multiprocessing
import pickle
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from rich.progress import ProgressColumn, Task
from rich.text import Text

from geodata import loader
from travel.core.errors import InvalidRecord
from travel.core.records import Kind, Record, record_from_json
from travel.ingest.commit import CommitReport, commit_rows
from travel.store.base import Query, Row, Store, to_rows
from travel.store.bus import ChangeBus

# CLI name → kind of record the file holds.
KINDS: dict[str, Kind] = {
    "network": Kind.ROAD_SECTION,
    "pois": Kind.POI,
    "toll_sections": Kind.TOLL_SECTION,
    "toll_rates": Kind.TOLL_RATE,
    "toll_rules": Kind.TOLL_RULES,
    "toll_notices": Kind.TOLL_NOTICE,
    "waterways": Kind.WATERWAY,
    "gauges": Kind.GAUGE,
    "admin_areas": Kind.ADMIN_AREA,
}
GEOJSON_SUFFIXES = frozenset({".geojson", ".json"})
log = logging.getLogger(__name__)
MAX_ERRORS = 20
# Records per commit (one transaction each; whole spooled chunks, so it may be a little more).
BATCH = 5000
# Records per spooled chunk: few enough that the records validated and pickled together fit a core's
# cache (~1 MiB), so validation and the spool reuse hot memory. Chunks of 5000 cost ~29 µs a record
# to validate and spool, chunks of 250 ~23 µs.
SPOOL_CHUNK = 250
# Items a file must have past which a worker process helps validate (starting one costs ~0.4 s of CPU).
ALONE_UNTIL = 20_000
# Spooled chunks handed to the worker at once, ~20 ms of its work: each hand-over waits a few ms for
# the executor's threads, which need this process's GIL, so single chunks would leave it idle.
WORKER_CHUNKS = 4
# Groups of chunks the worker is given at a time; a group read while it has this many is checked here.
IN_FLIGHT = 3
# GIL switch interval while the worker is used (see ``_prompt_threads``).
SWITCH_INTERVAL_S = 0.0002
# Checked groups held back until an earlier one is done (bounds the memory of an import).
MAX_PENDING = 8
# Collector thresholds while importing (see ``_few_collections``); the older generations keep theirs.
IMPORT_GC_THRESHOLD = 100_000
# Fields that say when or in which version a record was seen, not what it is.
VOLATILE = frozenset({"version", "updated_at", "ingested_at"})

# Called with the number of records just handled (drives the progress bar).
Advance = Callable[[int], None]


class ImportRefused(Exception):
    """The file has bad records; nothing was committed."""

    def __init__(self, errors: list[str], more: bool) -> None:
        super().__init__(f"{len(errors)}{'+' if more else ''} bad records")
        self.errors, self.more = errors, more


@dataclass(frozen=True)
class Defaults:
    """Source and default updated_at for the file's records (from its bundle manifest, if any)."""

    source: str = loader.DEFAULT_SOURCE
    updated_at: str | None = None


def file_defaults(path: Path, updated_at: str | None = None) -> Defaults:
    """Take source and updated_at from a bundle.json next to the file, so bundled files import as-is."""
    manifest = path.parent / loader.MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        entry = next(e for e in data["files"] if isinstance(e, dict) and e.get("path") == path.name)
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return Defaults(updated_at=updated_at)
    return Defaults(str(data.get("source") or loader.DEFAULT_SOURCE),
                    updated_at or entry.get("updated_at", data.get("updated_at")))


def checked_records(path: Path, kind: Kind, defaults: Defaults) -> Iterator[Record | InvalidRecord]:
    """Each record of the file, or the error that made it invalid; reading goes on after a bad record."""
    return loader.built(raw_records(path, kind, defaults))


def raw_records(path: Path, kind: Kind, defaults: Defaults) -> Iterator[loader.Raw | Record | InvalidRecord]:
    """The file's items as read, in order: raw (to ``loader.build``), already built (OSM) or errors."""
    try:
        if path.suffix.lower() in GEOJSON_SUFFIXES:
            yield from loader.raw_geojson(path, kind, defaults.source, updated_at=defaults.updated_at)
        elif path.suffix.lower() == ".csv":
            yield from loader.raw_csv(path, kind, defaults.source, updated_at=defaults.updated_at)
        elif path.name.lower().endswith(".osm.pbf"):
            yield from _osm(path, kind)
        else:
            yield InvalidRecord(
                f"{path.name}: unknown format (expected .geojson, .json, .csv or, for the network, .osm.pbf)",
                param="path",
            )
    except InvalidRecord as err:  # the file itself is unreadable or malformed: nothing more to read
        yield err


def _osm(path: Path, kind: Kind) -> Iterator[Record | InvalidRecord]:
    """Road sections from an OpenStreetMap extract (the reader stops at its first bad way)."""
    if kind is not Kind.ROAD_SECTION:
        yield InvalidRecord(f"{path.name}: an OSM extract can only be imported as the network", param="kind")
        return
    from travel.ingest.osm import read_osm

    yield from read_osm(path)


class Checked(NamedTuple):
    """One chunk of a file validated: how many items it had, the valid count, the errors and the spool bytes."""

    items: int
    valid: int
    errors: list[str]
    spooled: bytes  # the valid records' rows pickled (``_spooled`` reads them); empty when the chunk has errors


def check_chunk(items: list[loader.Raw | Record | InvalidRecord]) -> Checked:
    """Validate one chunk and serialize its records as the store's rows, one spooled batch (pure: a worker can run it).

    The records are serialized here, once, where the work is shared with the worker: the commit pass
    only stamps and inserts the rows (``Store.upsert_rows``).
    """
    records: list[Record] = []
    errors: list[str] = []
    for item in loader.built(items):
        if isinstance(item, InvalidRecord):
            errors.append(item.detail)
        else:
            records.append(item)
    spooled = b"" if errors or not records else pickle.dumps(to_rows(records), pickle.HIGHEST_PROTOCOL)
    return Checked(len(items), len(records), errors, spooled)


def validate(
    path: Path,
    kind: Kind,
    defaults: Defaults,
    spool: IO[bytes],
    batch: int = SPOOL_CHUNK,
    advance: Advance | None = None,
    alone_until: int = ALONE_UNTIL,
) -> int:
    """Read the whole file once, spooling valid chunks; the record count, or ImportRefused with the errors.

    The spool holds the validated records as the store's rows, so the committing pass neither re-reads,
    re-validates nor re-serializes the file (validation is most of an import's time). Past ``alone_until`` items a
    worker process validates chunks too (see ``_shared``).
    """
    errors: list[str] = []
    count = 0
    chunks = _groups(raw_records(path, kind, defaults), batch)
    for checked in _checked_chunks(chunks, batch, alone_until):
        if advance:
            advance(checked.items)
        count += checked.valid
        errors += checked.errors[:MAX_ERRORS + 1 - len(errors)]
        if not errors:
            spool.write(checked.spooled)
    if errors:
        raise ImportRefused(errors[:MAX_ERRORS], len(errors) > MAX_ERRORS)
    return count


def _groups(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    while group := list(itertools.islice(items, size)):
        yield group


def _checked_chunks(chunks: Iterator[list[Any]], batch: int, alone_until: int) -> Iterator[Checked]:
    """Every chunk checked, in order: by this process alone for the first ``alone_until`` items.

    A small file so does not pay for starting a process; the rest of a larger one is shared with a worker.
    """
    for _ in range(-(-alone_until // batch)):
        chunk = next(chunks, None)
        if chunk is None:
            return
        yield check_chunk(chunk)
    chunk = next(chunks, None)
    if chunk is None:
        return
    with _prompt_threads(), ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_collect_rarely) as pool:
        yield from _shared(itertools.chain([chunk], chunks), pool)


@contextmanager
def _prompt_threads() -> Iterator[None]:
    """Let the executor's threads take the GIL within ``SWITCH_INTERVAL_S`` while the worker is used.

    They move each chunk and result through a pipe some 64 KiB at a time, taking the GIL back for
    every piece; with the default 5 ms switch interval this process's busy thread keeps them (and so
    the worker) waiting: the worker then validated ~45% of a 200k-section file, with 0.2 ms ~75%.
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _shared(chunks: Iterator[list[Any]], pool: Executor) -> Iterator[Checked]:
    """Chunks checked by ``pool`` while it keeps up, else by this process, and given back in order.

    This process reads every chunk; a group of chunks it reads while the worker already has
    ``IN_FLIGHT`` groups (or is still starting) it checks itself, so both cores stay busy whatever
    else the machine runs. At most ``MAX_PENDING`` groups' results wait for an earlier one.
    """
    busy: list[Future[Any]] = [pool.submit(_collect_rarely)]  # done once the worker has started
    pending: deque[Future[list[Checked]]] = deque()
    for group in _groups(chunks, WORKER_CHUNKS):
        while pending and (pending[0].done() or len(pending) >= MAX_PENDING):
            yield from pending.popleft().result()
        busy = [f for f in busy if not f.done()]
        if len(busy) < IN_FLIGHT:
            # Pickled here, chunk by chunk: the worker then unpickles one chunk at a time (cache-sized)
            # and the executor's feeder thread has little to do with the GIL.
            pending.append(pool.submit(_check_pickled, [pickle.dumps(c, pickle.HIGHEST_PROTOCOL) for c in group]))
            busy.append(pending[-1])
        else:
            pending.append(_done([check_chunk(chunk) for chunk in group]))
    for future in pending:
        yield from future.result()


def _check_pickled(chunks: list[bytes]) -> list[Checked]:
    """``check_chunk`` of each pickled chunk (run by the worker)."""
    return [check_chunk(pickle.loads(chunk)) for chunk in chunks]


def _done(result: list[Checked]) -> Future[list[Checked]]:
    """A future already holding ``result`` (chunks this process checked), to queue with the worker's."""
    future: Future[list[Checked]] = Future()
    future.set_result(result)
    return future


def _spooled(spool: IO[bytes]) -> Iterator[list[Row]]:
    """The batches of rows ``validate`` spooled, in file order."""
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _regrouped(chunks: Iterator[list[Row]], size: int) -> Iterator[list[Row]]:
    """The spooled chunks joined into batches of ``size`` rows or more (the last may be smaller)."""
    batch: list[Row] = []
    for chunk in chunks:
        batch += chunk
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _content(record: Record) -> dict[str, Any]:
    """What a record says, without when or in which version it was said."""
    return record.model_dump(mode="json", exclude=VOLATILE)


def _row_content(row: Row) -> dict[str, Any]:
    """``_content`` of a row's record, read from its JSON (the same values ``model_dump(mode="json")`` gives)."""
    return {k: v for k, v in json.loads(row.body("null")).items() if k not in VOLATILE}


def _superseding(row: Row, current: Record) -> Row:
    """The row of ``row``'s record as the version after ``current`` (or its own, if that is higher)."""
    record = record_from_json(row.kind, row.body("null"))
    [superseding] = to_rows([record.model_copy(update={"version": max(row.version, current.version + 1)})])
    return superseding


async def _commit_batch(
    store: Store, bus: ChangeBus, kind: Kind, batch: list[Row], report: CommitReport, *, fresh: bool
) -> None:
    """Commit the new and changed records of one batch; changed ones supersede the stored version.

    ``fresh``: the kind held nothing when the import began, so there is nothing to compare with (a
    record another writer stored meanwhile is still safe: the store keeps the higher version).
    """
    if fresh:
        await commit_rows(store, bus, batch, report)
        return
    stored = {r.id: r for r in await store.query(Query(kind, ids=frozenset(r.id for r in batch)))}
    changed: list[Row] = []
    for row in batch:
        current = stored.get(row.id)
        if current is None:
            changed.append(row)
        elif _row_content(row) != _content(current):
            changed.append(_superseding(row, current))
        else:
            report.unchanged += 1
            report.by_kind[kind.value] = report.by_kind.get(kind.value, 0) + 1
    if changed:
        await commit_rows(store, bus, changed, report)


async def import_file(
    store: Store,
    bus: ChangeBus,
    kind: Kind,
    path: Path,
    *,
    updated_at: str | None = None,
    batch: int = BATCH,
    on_validated: Callable[[int], None] | None = None,
    advance: Advance | None = None,
    report: CommitReport | None = None,
) -> CommitReport:
    """Import one file of ``kind``: all of it or (ImportRefused) none of it; re-importing is a no-op."""
    report = report or CommitReport()
    with _few_collections(), tempfile.TemporaryFile(prefix="travel-import-") as spool:
        total = validate(path, kind, file_defaults(path, updated_at), spool, SPOOL_CHUNK, advance)
        if on_validated:
            on_validated(total)
        fresh = not await store.query(Query(kind, limit=1))  # one index probe, not a count
        async with store.bulk():
            for chunk in _regrouped(_spooled(spool), batch):
                await _commit_batch(store, bus, kind, chunk, report, fresh=fresh)
                if advance:
                    advance(len(chunk))
    return report


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while importing; restore its thresholds afterwards.

    An import keeps a batch of a few thousand records (tens of thousands of containers) alive while
    allocating millions of short-lived objects, so with the default thresholds the collector rescans
    each live batch dozens of times: ~40% of an import's CPU. Records die by reference counting, not
    in cycles, so collecting every ``IMPORT_GC_THRESHOLD`` allocations instead loses nothing.
    """
    thresholds = gc.get_threshold()
    _collect_rarely()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _collect_rarely() -> None:
    """Set the youngest generation's threshold to ``IMPORT_GC_THRESHOLD`` (also a worker's initializer)."""
    gc.set_threshold(IMPORT_GC_THRESHOLD, *gc.get_threshold()[1:])


async def import_bundle(store: Store, bus: ChangeBus, directory: Path | None = None) -> CommitReport:
    """Import every file of a bundle (the packaged one by default) as ``import_file`` does, one by one.

    Going through the importer means an updated bundle updates what is stored (next version), which
    loading its records with their file version would not.
    """
    _, entries = loader.bundle_manifest(directory)
    report = CommitReport()
    for path, kind, updated_at in entries:
        await import_file(store, bus, kind, path, updated_at=updated_at, report=report)
    log.info("bundle imported", extra={"by_kind": report.by_kind})
    return report


async def load_bundle_if_empty(store: Store, bus: ChangeBus) -> CommitReport | None:
    """Import the packaged bundle when the store holds no road network yet."""
    if (await store.counts()).get(Kind.ROAD_SECTION):
        return None
    return await import_bundle(store, bus)


class RateColumn(ProgressColumn):
    """Records per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        """The task's current speed."""
        return Text(f"{task.speed or 0:,.0f} rec/s", style="progress.data.speed")
