"""The store contract both backends (embedded SQLite, PostGIS) implement and are tested against.

Semantics every backend must keep (``tests/contract`` checks them):
- ``upsert`` is atomic per call: all records are committed, or none (and the error says which).
- a record whose version is higher than the stored one supersedes it; an equal or lower version is a
  no-op (``ChangeOp.UNCHANGED``); every committed version is kept in history.
- ``ingested_at`` is stamped by the store, strictly increasing per store, and is what ``since`` and
  ``changed_since`` compare against, so incremental sync never misses a change.
- distances are metres on the WGS84 ellipsoid (a backend may use a local projection accurate to
  0.5 % within 200 km).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

from shapely.geometry import LineString

from travel.core.geometry import wkbs_and_bounds
from travel.core.records import Kind, Record, record_from_json


class ChangeOp(StrEnum):
    """What an upsert did to one record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Change:
    """The outcome of upserting one record; published on the bus unless UNCHANGED.

    Made from a record, or from the JSON body a store wrote for it (``upsert_rows``): then the record is
    decoded only when first read, as most of an import's changes never are in the importing process
    (and the Redis bus publishes the body as it is). Immutable, like the record.
    """

    __slots__ = ("op", "kind", "_record", "_body")
    op: ChangeOp
    kind: Kind
    _record: Record | None
    _body: str | None

    def __init__(self, op: ChangeOp, record: Record) -> None:
        _set(self, "op", op)
        _set(self, "kind", record.kind)
        _set(self, "_record", record)
        _set(self, "_body", None)

    @classmethod
    def of_body(cls, op: ChangeOp, kind: Kind, body: str) -> Change:
        """The change of the record of ``kind`` stored as ``body`` (its JSON), decoded when first read."""
        change = cls.__new__(cls)
        _set(change, "op", op)
        _set(change, "kind", kind)
        _set(change, "_record", None)
        _set(change, "_body", body)
        return change

    @property
    def record(self) -> Record:
        """The changed record (decoded from its body on first use)."""
        record = self._record
        if record is None:
            record = record_from_json(self.kind, self._body or "")
            _set(self, "_record", record)
        return record

    @property
    def body(self) -> str:
        """The record's JSON, as the store holds it."""
        body = self._body
        if body is None:
            body = self.record.model_dump_json()
            _set(self, "_body", body)
        return body

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Change is immutable (cannot set {name!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return self.op is other.op and self.record == other.record

    def __hash__(self) -> int:
        return hash((self.op, self.record))

    def __repr__(self) -> str:
        record = self.record
        return f"<Change {self.op} {record.kind}:{record.id} v{record.version}>"


_set = object.__setattr__


class Row(NamedTuple):
    """A record serialized once for the stores (``to_rows``), so a bulk load never rebuilds or re-serializes it.

    Its JSON body has ``ingested_at`` left for the store to stamp: ``head`` + the stamp as JSON + ``tail``.
    """

    kind: Kind
    id: str
    version: int
    source: str
    road: str | None
    active: bool
    wkb: bytes | None  # the geometry as WKB (shapely's, as stored), None without one
    bounds: tuple[float, float, float, float] | None  # west, south, east, north
    head: str
    tail: str

    def body(self, stamp: str) -> str:
        """The stamped record's JSON, given its ``ingested_at`` as JSON (``json_time``)."""
        return self.head + stamp + self.tail


UNSTAMPED = '"ingested_at":null'


def to_rows(records: Sequence[Record]) -> list[Row]:
    """The rows of ``records`` (any ``ingested_at`` they have is left for the store to replace).

    Geometries are converted together (``wkbs_and_bounds``).
    """
    unstamped = [r if r.ingested_at is None else r.model_copy(update={"ingested_at": None}) for r in records]
    wkbs, bounds = wkbs_and_bounds([r.geometry for r in unstamped])
    out = []
    for record, wkb, box in zip(unstamped, wkbs, bounds, strict=True):
        try:
            # ingested_at is the sixth field: no earlier value (none is an object) can hold its text.
            head, found, tail = record.model_dump_json().partition(UNSTAMPED)
            if not found:
                raise ValueError(f"{type(record).__name__} JSON has no {UNSTAMPED}")
        except Exception as err:
            err.add_note(f"while serializing {record.kind}:{record.id} v{record.version}")
            raise
        out.append(Row(record.kind, record.id, record.version, record.source, record.road_code, record.active,
                       wkb, box, head + '"ingested_at":', tail))
    return out


def json_time(stamp: datetime) -> str:
    """A UTC stamp as a JSON string the way pydantic writes it (no fraction when it is whole seconds)."""
    text = stamp.isoformat()
    return f'"{text[:-6]}Z"' if text.endswith("+00:00") else f'"{text}"'


@dataclass(frozen=True, slots=True)
class BBox:
    """A lon/lat box, west < east, south < north (antimeridian crossing is not supported)."""

    west: float
    south: float
    east: float
    north: float


@dataclass(frozen=True, slots=True)
class Near:
    """Records within ``radius_m`` metres of (lon, lat)."""

    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Nearest:
    """The ``k`` records nearest to (lon, lat), optionally no farther than ``max_m``."""

    lon: float
    lat: float
    k: int
    max_m: float | None = None


@dataclass(frozen=True, slots=True)
class Along:
    """Records within ``distance_m`` metres of a lon/lat line (a route or a road)."""

    line: LineString
    distance_m: float


@dataclass(frozen=True, slots=True)
class Query:
    """A store query: one kind, at most one spatial predicate, and attribute filters.

    Results are ordered by distance for ``near``/``nearest``/``along`` queries and by id otherwise.
    """

    kind: Kind
    bbox: BBox | None = None
    near: Near | None = None
    nearest: Nearest | None = None
    along: Along | None = None
    source: str | None = None
    road: str | None = None
    active: bool | None = None
    since: datetime | None = None
    ids: frozenset[str] | None = None
    limit: int | None = None
    spatial: tuple[object, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        chosen = tuple(p for p in (self.bbox, self.near, self.nearest, self.along) if p is not None)
        if len(chosen) > 1:
            raise ValueError("a query takes at most one spatial predicate")
        object.__setattr__(self, "spatial", chosen)


class Store(Protocol):
    """Durable, geo-indexed, versioned record store."""

    name: str

    async def open(self) -> None:
        """Connect and prepare (create schema / apply migrations)."""

    async def close(self) -> None:
        """Release connections and files."""

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers now."""

    def bulk(self) -> AbstractAsyncContextManager[None]:
        """Mark a bulk load (an import): the store may trade per-commit syncs for speed inside it.

        Commits inside stay atomic and visible at once; all of them are durable when it ends.
        """

    async def upsert(self, records: Sequence[Record]) -> list[Change]:
        """Commit records atomically; one Change per record, in input order."""

    async def upsert_rows(self, rows: Sequence[Row]) -> list[Change]:
        """``upsert`` of records serialized beforehand (``to_rows``): same rules; the changes decode lazily."""

    async def get(self, kind: Kind, record_id: str) -> Record | None:
        """The current version of one record, or None."""

    async def history(self, kind: Kind, record_id: str) -> list[Record]:
        """Every committed version of one record, oldest first (empty if unknown)."""

    async def query(self, query: Query) -> list[Record]:
        """Current records matching ``query``."""

    async def changed_since(self, since: datetime | None, kinds: Sequence[Kind] | None = None) -> list[Record]:
        """Current records committed after ``since`` (all when None), oldest commit first."""

    async def counts(self) -> dict[Kind, int]:
        """Number of current records per kind (kinds with none are omitted)."""

    def iter_kind(self, kind: Kind, batch: int = 5000) -> AsyncIterator[Record]:
        """Stream every current record of ``kind`` (for building the read model)."""
