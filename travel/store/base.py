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
from typing import Protocol

from shapely.geometry import LineString

from travel.models import Kind, Record


class ChangeOp(StrEnum):
    """What an upsert did to one record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of upserting one record; published on the bus unless UNCHANGED."""

    op: ChangeOp
    record: Record

    @property
    def kind(self) -> Kind:
        """The kind of the changed record."""
        return self.record.kind

    def __repr__(self) -> str:
        return f"<Change {self.op} {self.record.kind}:{self.record.id} v{self.record.version}>"


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
