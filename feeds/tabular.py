"""The project's own CSV feeds: toll stations, service-area status, gauge readings and toll rates.

Every table is CSV (RFC 4180) with a header row, in UTF-8 (a BOM is fine) or the charset the
transport declares (``ctx.charset``, e.g. GBK from spreadsheet exports). Cells follow the reference
data's conventions (``geodata/README.md``, shared through ``geodata.loader.csv_cells``): an empty
cell means "not given", a cell starting with ``[`` or ``{`` is JSON, ``x_`` columns are notes for
people and ignored. A header without a required column, with an unknown column, or an empty file
refuses the document; a bad row is rejected as ``line N: <column>: <reason>`` and the good rows are
kept. Rows whose cells are all empty (spreadsheet padding) are skipped. Times are ISO 8601; a time
without an offset is read in ``ctx.zone`` or rejects the row. The column sets, with types, units and
examples, are in ``feeds/README.md``.

* ``toll_stations`` → :class:`~travel.core.records.Poi` (``toll_station``), a snapshot.
* ``sa_status`` → :class:`~feeds.base.Patch` of a service area's ``open_status``, ``status_note`` and
  optionally ``facilities`` ``{"fuel": …, "ev_charging": …}`` (the ingest step merges it into the
  current POI's facilities, keeping the other members). Not a snapshot.
* ``gauge_readings`` → :class:`~travel.core.records.GaugeReading`; the SL 323-2011 ``ST_RIVER_R`` names
  ``STCD, TM, Z, Q`` are accepted for ``gauge, observed_at, level_m, flow_m3s``. A reading's
  ``source_id`` is ``{gauge source_id}@{observed_at as YYYYMMDDTHHMMSSZ}``, stable across polls.
* ``toll_rates`` → :class:`~travel.core.records.TollRate`, the column set of ``travel import toll_rates``
  plus ``updated_at``; vehicle classes are JT/T 489-2019 codes. A snapshot.

Versions are ``version_of(updated_at)`` (readings: of ``observed_at``). Not supported: other
delimiters than the comma, station codes in ``STCD`` (the cell must hold the Gauge record id; mapping
a national station code to it is linking, done after parsing), partial facilities other than fuel
and EV charging.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from feeds.base import FeedError, ParseContext, Parsed, Patch, decode_text, parse_time, version_of
from travel.core.cells import CellError, csv_cells, csv_geometry
from travel.core.records import (
    ID_PATTERN,
    Direction,
    GaugeReading,
    Kind,
    OpenStatus,
    Poi,
    PoiKind,
    Record,
    TollRate,
)
from travel.core.stakes import parse_stake
from travel.core.vehicle_classes import CLASS_CODES, CLASS_CODES_TEXT

OPEN_STATUS: dict[str, OpenStatus] = {
    **{s.value: s for s in OpenStatus},
    "营业": OpenStatus.OPEN,
    "正常营业": OpenStatus.OPEN,
    "部分营业": OpenStatus.PARTIAL,
    "暂停营业": OpenStatus.CLOSED,
    "关闭": OpenStatus.CLOSED,
}
DIRECTIONS: dict[str, Direction] = {
    **{d.value: d for d in Direction},
    "上行": Direction.INCREASING,
    "下行": Direction.DECREASING,
    "双向": Direction.BOTH,
}
BOOLEANS: dict[str, bool] = {
    "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
    "是": True, "否": False, "有": True, "无": False,
}
FUEL_SEPARATOR = re.compile(r"[;；、]")
RECORD_ID = re.compile(ID_PATTERN)
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class Table:
    """One CSV feed's header: required and optional columns, accepted aliases, and how errors name fields."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    field_columns: dict[str, str] = field(default_factory=dict)
    key: str = "id"
    snapshot: bool = False


TOLL_STATIONS = Table(
    required=("id", "name", "lon", "lat", "updated_at"),
    optional=("road", "stake", "direction", "admin_code", "open_status", "status_note"),
    field_columns={"stake_m": "stake", "geometry": "lon/lat"},
    snapshot=True,
)
SA_STATUS = Table(
    required=("poi_id", "open_status", "updated_at"), optional=("status_note", "fuel", "ev_charging"), key="poi_id"
)
GAUGE_READINGS = Table(
    required=("gauge", "observed_at", "level_m"),
    optional=("flow_m3s",),
    aliases={"STCD": "gauge", "TM": "observed_at", "Z": "level_m", "Q": "flow_m3s"},
    key="observed_at",
)
TOLL_RATES = Table(
    required=("id", "toll_section", "vehicle_class", "fen_per_km", "effective_from", "updated_at"),
    optional=("effective_to",),
    snapshot=True,
)


class Row:
    """One CSV row's given cells, read as typed values; errors name the column as the header wrote it."""

    def __init__(self, raw: dict[str | None, Any], cells: dict[str, Any], names: dict[str, str],
                 ctx: ParseContext) -> None:
        self.raw, self.cells, self.names, self.ctx = raw, cells, names, ctx

    def error(self, column: str, reason: str) -> CellError:
        """A CellError for ``column`` under its header name."""
        return CellError(self.names.get(column, column), reason)

    def value(self, column: str, required: bool = False) -> Any:
        """The cell's value; None when not given, which is an error for a required column."""
        value = self.cells.get(self.names.get(column, column))
        if value is None and required:
            raise self.error(column, "not given")
        return value

    def text(self, column: str, required: bool = False) -> str | None:
        """Text without NUL (PostgreSQL cannot store U+0000)."""
        value = self.value(column, required)
        if value is not None and not isinstance(value, str):
            raise self.error(column, "expected text, not a JSON value")
        if value is not None and "\x00" in value:
            raise self.error(column, "contains a NUL character (U+0000)")
        return value

    def number(self, column: str, required: bool = False) -> float | None:
        """A finite decimal number."""
        value = self.text(column, required)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError as err:
            raise self.error(column, f"{value!r} is not a number") from err
        if not math.isfinite(number):
            raise self.error(column, f"{value!r} is not a finite number")
        return number

    def integer(self, column: str) -> int:
        """A whole number (required)."""
        value = self.text(column, required=True)
        try:
            return int(value)
        except ValueError as err:
            raise self.error(column, f"{value!r} is not a whole number") from err

    def time(self, column: str, required: bool = False) -> datetime | None:
        """An ISO 8601 time in UTC (without an offset: in ``ctx.zone``, else an error)."""
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return parse_time(value, self.ctx, "time")
        except (ValueError, OverflowError) as err:
            raise self.error(column, str(err)) from err

    def choice(self, column: str, choices: dict[str, Any], required: bool = False) -> Any:
        """One of ``choices`` (English values case-insensitively, or their Chinese words)."""
        value = self.text(column, required)
        if value is None:
            return None
        found = choices.get(value, choices.get(value.lower()))
        if found is None:
            raise self.error(column, f"{value!r} is not one of {', '.join(choices)}")
        return found

    def record_id(self, column: str, example: str) -> str:
        """A full record id ``source:source_id`` of a record another feed owns (required)."""
        value = self.text(column, required=True)
        if not RECORD_ID.match(value):
            raise self.error(column, f"{value!r} is not a record id (expected source:id, e.g. {example})")
        return value

    def stake(self, column: str) -> float | None:
        """Metres from ``K650+200`` or a plain number of metres."""
        value = self.text(column)
        if value is None or not value.lstrip().upper().startswith("K"):
            return self.number(column)
        try:
            return parse_stake(value)
        except ValueError as err:
            raise self.error(column, str(err)) from err


# --------------------------------------------------------------------------- the four tables
def parse_toll_stations(data: bytes, ctx: ParseContext) -> Parsed:
    """Toll stations (收费站) as POIs; the document lists them all (a snapshot)."""
    return _parse(data, ctx, TOLL_STATIONS, _toll_station)


def parse_service_area_status(data: bytes, ctx: ParseContext) -> Parsed:
    """Open-status changes of service areas (服务区), as patches of the POIs the reference data holds."""
    return _parse(data, ctx, SA_STATUS, _service_area_status)


def parse_gauge_readings(data: bytes, ctx: ParseContext) -> Parsed:
    """Water-level (and flow) readings at gauges, stable ids so a re-poll is a no-op."""
    return _parse(data, ctx, GAUGE_READINGS, _gauge_reading)


def parse_toll_rates(data: bytes, ctx: ParseContext) -> Parsed:
    """Toll rates per charging section and vehicle class; the document lists them all (a snapshot)."""
    return _parse(data, ctx, TOLL_RATES, _toll_rate)


def _toll_station(row: Row) -> Record:
    updated_at = row.time("updated_at", required=True)
    source_id = row.text("id", required=True)
    fields = {
        "poi_kind": PoiKind.TOLL_STATION,
        "name": row.text("name", required=True),
        "road": row.text("road"),
        "stake_m": row.stake("stake"),
        "direction": row.choice("direction", DIRECTIONS),
        "admin_code": row.text("admin_code"),
        "open_status": row.choice("open_status", OPEN_STATUS),
        "status_note": row.text("status_note"),
        "geometry": csv_geometry(row.raw),
    }
    return Poi.model_validate({k: v for k, v in fields.items() if v is not None}
                              | _identity(row.ctx, source_id, updated_at))


def _service_area_status(row: Row) -> Patch:
    poi_id = row.record_id("poi_id", "geodata:sa-G4-xuchang")
    fields: dict[str, Any] = {
        "open_status": row.choice("open_status", OPEN_STATUS, required=True),
        "status_note": row.text("status_note"),
    }
    facilities = {"fuel": _fuel(row), "ev_charging": row.choice("ev_charging", BOOLEANS)}
    facilities = {k: v for k, v in facilities.items() if v is not None}
    if facilities:
        fields["facilities"] = facilities
    return Patch(Kind.POI, poi_id, fields, row.time("updated_at", required=True))


def _fuel(row: Row) -> list[str] | None:
    """``92#;95#;0#柴油`` (or a JSON list) as a list of fuel names."""
    value = row.value("fuel")
    if value is None:
        return None
    items = FUEL_SEPARATOR.split(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and "\x00" not in i for i in items):
        raise row.error("fuel", "expected fuel names separated by ';', e.g. 92#;95#;0#柴油")
    return [i.strip() for i in items if i.strip()]


def _gauge_reading(row: Row) -> Record:
    gauge = row.record_id("gauge", "geodata:zhoukou")
    observed_at = row.time("observed_at", required=True)
    source_id = f"{gauge.split(':', 1)[1]}@{observed_at.strftime(STAMP)}"
    return GaugeReading.model_validate({
        "gauge": gauge,
        "observed_at": observed_at,
        "level_m": row.number("level_m", required=True),
        "flow_m3s": row.number("flow_m3s"),
        **_identity(row.ctx, source_id, observed_at),
    })


def _toll_rate(row: Row) -> Record:
    updated_at = row.time("updated_at", required=True)
    source_id = row.text("id", required=True)
    vehicle_class = row.integer("vehicle_class")
    if vehicle_class not in CLASS_CODES:
        raise row.error("vehicle_class", f"{vehicle_class} is not a JT/T 489-2019 vehicle class "
                                         f"(valid: {CLASS_CODES_TEXT})")
    effective_from = row.time("effective_from", required=True)
    effective_to = row.time("effective_to")
    if effective_to is not None and effective_to <= effective_from:
        raise row.error("effective_to", "is not after effective_from")
    return TollRate.model_validate({
        "toll_section": row.record_id("toll_section", "geodata:tsec-G4-012"),
        "vehicle_class": vehicle_class,
        "fen_per_km": row.integer("fen_per_km"),
        "effective_from": effective_from,
        "effective_to": effective_to,
        **_identity(row.ctx, source_id, updated_at),
    })


def _identity(ctx: ParseContext, source_id: str, updated_at: datetime) -> dict[str, Any]:
    """The fields every record of this feed carries: id, source, version from the time it changed."""
    return {"id": f"{ctx.source}:{source_id}", "source": ctx.source, "source_id": source_id,
            "updated_at": updated_at, "version": version_of(updated_at)}


# --------------------------------------------------------------------------- reading a table
def _parse(data: bytes, ctx: ParseContext, table: Table, build: Callable[[Row], Record | Patch]) -> Parsed:
    """Every row of the document through ``build``; bad rows rejected by line, duplicates by key."""
    reader = csv.DictReader(io.StringIO(decode_text(data, ctx), newline=""))
    names = _header(reader, table)
    parsed = Parsed(snapshot=table.snapshot)
    seen: dict[Any, int] = {}
    for line, raw in _rows(reader):
        if all(not v or not str(v).strip() for v in raw.values()):
            continue
        try:
            item = build(Row(raw, csv_cells(raw), names, ctx))
            _add(parsed, item, line, seen, names.get(table.key, table.key))
        except ValidationError as err:
            parsed.reject(f"line {line}", _reason(err, table, names))
        except (ValueError, OverflowError) as err:
            parsed.reject(f"line {line}", str(err))
    return parsed


def _header(reader: csv.DictReader, table: Table) -> dict[str, str]:
    """Our column name → the header's name for it; FeedError when the header cannot be used."""
    try:
        header = reader.fieldnames
    except csv.Error as err:
        raise FeedError(f"malformed CSV: {err}", "line 1") from err
    if not header or not any(h.strip() for h in header):
        raise FeedError(f"empty document: expected a header row with the columns {', '.join(table.required)}")
    reader.fieldnames = header = [h.strip() for h in header]
    known = (*table.required, *table.optional)
    names: dict[str, str] = {}
    for n, name in enumerate(header, 1):
        column = name if name in known else table.aliases.get(name.upper())
        if name.startswith("x_"):
            continue
        if column is None:
            raise FeedError(f"unknown column {name!r} (column {n}); known: {', '.join(known)}; "
                            "x_ columns are notes", "line 1")
        if column in names:
            raise FeedError(f"column {name!r} repeats {names[column]!r}", "line 1")
        names[column] = name
    missing = [c for c in table.required if c not in names]
    if missing:
        raise FeedError(f"the header lacks the columns {', '.join(missing)}", "line 1")
    return names


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str | None, Any]]]:
    """(line, row) pairs; a row the CSV reader cannot split refuses the document."""
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as err:
        raise FeedError(f"malformed CSV: {err}", f"line {reader.line_num}") from err


def _add(parsed: Parsed, item: Record | Patch, line: int, seen: dict[Any, int], key_name: str) -> None:
    """Keep the item unless an earlier row of the document has the same key."""
    key = item.id if isinstance(item, Patch) else item.source_id
    if key in seen:
        raise CellError(key_name, f"duplicate {key!r} (first used on line {seen[key]})")
    seen[key] = line
    if isinstance(item, Patch):
        parsed.patches.append(item)
    else:
        parsed.records.append(item)


def _reason(err: ValidationError, table: Table, names: dict[str, str]) -> str:
    """A pydantic error in the document's own column names."""
    parts = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        if loc:
            column = table.field_columns.get(loc[0], loc[0])
            loc[0] = names.get(column, column)
        parts.append(f"{'.'.join(loc)}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)
