"""Read the bundled reference data, or a department's export in the same format, into records.

Two file formats (see ``geodata/README.md``):

* **GeoJSON** (RFC 7946) FeatureCollection: each Feature is one record; its ``id`` is the record's
  ``source_id``, its ``geometry`` the record's geometry and its ``properties`` the record's fields.
  A top-level ``metadata`` member may give ``kind``, ``updated_at`` and ``version`` for every
  feature. Properties starting with ``x_`` are annotations for people and are not loaded.
* **CSV** with a header row: ``id`` is the ``source_id``, ``lon``/``lat`` (or ``wkt``) the geometry,
  every other column a field; empty cells mean "not given", cells starting with ``[`` or ``{`` are
  JSON, ``x_`` columns are ignored.

Files are read one feature (or row) at a time, so a large export never has to fit in memory twice.
Reading (with the duplicate-id check, which needs the whole file) and validating are separate steps
(``raw_geojson``/``raw_csv``, then ``build``), so the importer can validate in another process.
Any bad record raises :class:`travel.core.errors.InvalidRecord` naming the file, the feature number
(1-based) or CSV line, and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from pydantic import ValidationError

from geodata import BUNDLE_DIR
from travel.core.cells import CellError, csv_cells, csv_geometry, record_properties
from travel.core.errors import InvalidRecord
from travel.core.records import RECORD_TYPES, Kind, Record

MANIFEST = "bundle.json"
DEFAULT_SOURCE = "geodata"
# Used when a directory has no bundle.json: file name → kind.
DEFAULT_FILES: dict[str, Kind] = {
    "admin_areas.geojson": Kind.ADMIN_AREA,
    "road_network.geojson": Kind.ROAD_SECTION,
    "pois.geojson": Kind.POI,
    "toll_sections.geojson": Kind.TOLL_SECTION,
    "waterways.geojson": Kind.WATERWAY,
    "gauges.csv": Kind.GAUGE,
    "toll_rules.geojson": Kind.TOLL_RULES,
    "toll_rates.csv": Kind.TOLL_RATE,
    "toll_notices.geojson": Kind.TOLL_NOTICE,
}
# Fields holding ids of other records of the same source: a bare id gets the "source:" prefix.
REFERENCES: dict[Kind, tuple[str, ...]] = {Kind.TOLL_SECTION: ("road_sections",), Kind.TOLL_RATE: ("toll_section",)}
_CHUNK = 1 << 16
_DECODER = json.JSONDecoder()

When = datetime | str | None
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Defaults:
    updated_at: When
    version: int | None


# --------------------------------------------------------------------------- bundle
def read_bundle(directory: Path | None = None) -> dict[Kind, list[Record]]:
    """Every record of a bundle directory (the packaged one by default), by kind."""
    directory = Path(directory) if directory is not None else BUNDLE_DIR
    source, entries = bundle_manifest(directory)
    out: dict[Kind, list[Record]] = {}
    first_seen: dict[tuple[Kind, str], str] = {}
    for path, kind, updated_at in entries:
        reader = read_csv if path.suffix.lower() == ".csv" else read_geojson
        for record in reader(path, kind, source, updated_at=updated_at):
            key = (kind, record.id)
            if key in first_seen:
                raise InvalidRecord(
                    f"{path.name}: {kind} {record.id!r} is also in {first_seen[key]}", param="id"
                )
            first_seen[key] = path.name
            out.setdefault(kind, []).append(record)
    _check_references(out, source)
    return out


def bundle_manifest(directory: Path | None = None) -> tuple[str, list[tuple[Path, Kind, When]]]:
    """The (file, kind, default updated_at) list of a bundle: from bundle.json, else DEFAULT_FILES."""
    directory = Path(directory) if directory is not None else BUNDLE_DIR
    manifest = directory / MANIFEST
    if not manifest.exists():
        found = [(directory / name, kind, None) for name, kind in DEFAULT_FILES.items()]
        return DEFAULT_SOURCE, [entry for entry in found if entry[0].exists()]
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidRecord(f"{MANIFEST}: unreadable manifest: {err}", param="files") from err
    source = str(data.get("source") or DEFAULT_SOURCE)
    entries: list[tuple[Path, Kind, When]] = []
    for n, entry in enumerate(files, 1):
        if not isinstance(entry, dict) or "path" not in entry:
            raise InvalidRecord(f"{MANIFEST}: files entry {n} has no path", param="files")
        if entry.get("kind") is None:
            continue  # auxiliary file (e.g. nodes.geojson)
        try:
            kind = Kind(entry["kind"])
        except ValueError as err:
            raise InvalidRecord(f"{MANIFEST}: files entry {n}: unknown kind {entry['kind']!r}",
                                param="kind") from err
        entries.append((directory / entry["path"], kind, entry.get("updated_at", data.get("updated_at"))))
    return source, entries


def _check_references(bundle: dict[Kind, list[Record]], source: str) -> None:
    """Toll sections must cover road sections that the bundle holds."""
    if Kind.ROAD_SECTION not in bundle:
        return
    sections = {r.id for r in bundle[Kind.ROAD_SECTION]}
    for record in bundle.get(Kind.TOLL_SECTION, []):
        for ref in getattr(record, "road_sections", []):
            if ref not in sections:
                raise InvalidRecord(
                    f"toll section {record.id!r}: road_sections: unknown road section {ref!r}",
                    param="road_sections",
                )


# --------------------------------------------------------------------------- GeoJSON
def read_geojson(
    path: Path | str,
    kind: Kind | str,
    source: str = DEFAULT_SOURCE,
    *,
    updated_at: When = None,
    version: int | None = None,
) -> Iterator[Record]:
    """Records of ``kind`` from a GeoJSON FeatureCollection, one feature at a time; the first error raises."""
    return _raising(built(raw_geojson(path, kind, source, updated_at=updated_at, version=version)))


def raw_geojson(
    path: Path | str,
    kind: Kind | str,
    source: str = DEFAULT_SOURCE,
    *,
    updated_at: When = None,
    version: int | None = None,
) -> Iterator[Raw | InvalidRecord]:
    """Each feature checked for a unique id but not validated (see ``build``), or its error, in file order."""
    path, kind = Path(path), Kind(kind)
    defaults = _Defaults(updated_at, version)
    seen: dict[str, int] = {}
    pending: list[tuple[int, Any]] = []
    metadata_seen = False
    name = path.name
    try:
        for event, key, value in _collection_events(path):
            if event == "member":
                if key == "type" and value != "FeatureCollection":
                    raise InvalidRecord(f"{path.name}: type is {value!r}, not 'FeatureCollection'", param="type")
                if key == "metadata":
                    defaults = _file_defaults(path, kind, value, defaults)
                    metadata_seen = True
                continue
            if not metadata_seen and defaults.updated_at is None:
                pending.append((key, value))  # metadata may still follow: hold the features back
                continue
            yield _attempt(_feature_head, name, kind, key, value, source, defaults, seen)
        for n, feat in pending:
            yield _attempt(_feature_head, name, kind, n, feat, source, defaults, seen)
    except InvalidRecord as err:
        yield err


class Raw(NamedTuple):
    """One feature or CSV row that has a unique id, not yet validated into a record.

    It carries all that ``build`` needs and pickles, so another process can validate it while this
    one reads on (the duplicate-id check needs the whole file and so stays with the reader).
    """

    fields_of: Callable[[Raw], tuple[dict[str, Any], Any]]  # payload -> (fields, geometry)
    kind: Kind
    source: str
    where: str
    source_id: str
    payload: Any  # the GeoJSON Feature or the CSV row
    defaults: _Defaults


def build(raw: Raw) -> Record:
    """Validate one raw feature or row into its record; errors name the feature or line and the field."""
    fields, geometry = raw.fields_of(raw)
    return _build(RECORD_TYPES[raw.kind], raw.where, raw.source, raw.source_id, fields, geometry, raw.defaults)


def built(items: Iterable[Raw | Record | InvalidRecord]) -> Iterator[Record | InvalidRecord]:
    """Each raw item validated into its record or error as it is read (records and errors pass through)."""
    for item in items:
        yield _attempt(build, item) if isinstance(item, Raw) else item


def _attempt(build: Callable[..., _T], *args: Any) -> _T | InvalidRecord:
    """What ``build`` made, or the error that refused it."""
    try:
        return build(*args)
    except InvalidRecord as err:
        return err


def _raising(items: Iterator[Record | InvalidRecord]) -> Iterator[Record]:
    """Records, raising the first error instead of yielding it."""
    for item in items:
        if isinstance(item, InvalidRecord):
            raise item
        yield item


def _file_defaults(path: Path, kind: Kind, meta: Any, defaults: _Defaults) -> _Defaults:
    """Apply a FeatureCollection's ``metadata`` member (kind check, updated_at, version)."""
    if not isinstance(meta, dict):
        raise InvalidRecord(f"{path.name}: metadata must be an object", param="metadata")
    if meta.get("kind") not in (None, str(kind)):
        raise InvalidRecord(f"{path.name}: holds {meta['kind']!r} records, not {str(kind)!r}", param="kind")
    return _Defaults(meta.get("updated_at", defaults.updated_at), meta.get("version", defaults.version))


def _feature_head(
    name: str, kind: Kind, n: int, feat: Any, source: str, defaults: _Defaults, seen: dict[str, int]
) -> Raw:
    """Check that one Feature (of the file called ``name``) is a Feature with an id not used before in the file."""
    where = f"{name}: feature {n}"
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise InvalidRecord(f"{where}: not a GeoJSON Feature", param="type")
    fid = feat.get("id")
    if fid is None or not str(fid).strip():
        raise InvalidRecord(f"{where}: the feature has no id", param="id")
    source_id = str(fid).strip()
    where = f"{where} (id {source_id!r})"
    if source_id in seen:
        raise InvalidRecord(f"{where}: duplicate id (first used by feature {seen[source_id]})", param="id")
    seen[source_id] = n
    return Raw(fields_of=_feature_fields, kind=kind, source=source, where=where, source_id=source_id, payload=feat,
               defaults=defaults)


def _feature_fields(raw: Raw) -> tuple[dict[str, Any], Any]:
    """A Feature's properties and geometry."""
    props = raw.payload.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise InvalidRecord(f"{raw.where}: properties must be an object", param="properties")
    return props, raw.payload.get("geometry")


def _build(
    cls: type[Record],
    where: str,
    source: str,
    source_id: str,
    fields: dict[str, Any],
    geometry: Any,
    defaults: _Defaults,
) -> Record:
    """Assemble and validate a record from its fields; errors name ``where`` and the field."""
    try:
        data = record_properties(fields)
    except CellError as err:
        raise InvalidRecord(f"{where}: {err}", param=err.column) from err
    if geometry is None and cls.model_fields["geometry"].is_required():
        raise InvalidRecord(f"{where}: geometry: the geometry is missing", param="geometry")
    if geometry is not None:
        data["geometry"] = geometry
    if "updated_at" not in data:
        if defaults.updated_at is None:
            raise InvalidRecord(
                f"{where}: updated_at: not given by the record, the file's metadata or the manifest",
                param="updated_at",
            )
        data["updated_at"] = defaults.updated_at
    data.setdefault("version", defaults.version if defaults.version is not None else 1)
    for name in REFERENCES.get(cls.kind, ()):
        refs = data.get(name)
        if isinstance(refs, list):
            data[name] = [_qualified(r, source) for r in refs]
        elif refs is not None:
            data[name] = _qualified(refs, source)
    data.update(id=f"{source}:{source_id}", source=source, source_id=source_id)
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise _invalid(where, err) from err


def _qualified(ref: Any, source: str) -> Any:
    """A bare id of a record of the same source, given its ``source:`` prefix."""
    return ref if not isinstance(ref, str) or ":" in ref else f"{source}:{ref}"


def _invalid(where: str, err: ValidationError) -> InvalidRecord:
    """InvalidRecord naming the first failing field."""
    errors = err.errors(include_url=False)
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "record"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidRecord(f"{where}: {loc}: {first['msg']}{more}", param=loc)


class _JsonStream:
    """Incremental reader of JSON values from a text file, one top-level piece at a time."""

    def __init__(self, fh: IO[str], name: str) -> None:
        self.fh, self.name = fh, name
        self.buf, self.pos, self.eof = "", 0, False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf, self.pos = self.buf[self.pos:] + chunk, 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, char: str, what: str) -> None:
        """Consume ``char`` or fail."""
        got = self.peek()
        if got != char:
            raise InvalidRecord(f"{self.name}: malformed GeoJSON: expected {char!r} {what}, found {got!r}",
                                param="features")
        self.pos += 1

    def value(self, what: str | int) -> Any:
        """Decode the next JSON value (``what``: its name, or the number of the feature), reading on until complete."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as err:
                if self._fill():
                    continue
                name = f"feature {what}" if isinstance(what, int) else what
                raise InvalidRecord(f"{self.name}: {name}: malformed JSON: {err.msg}", param="features") from err
            if end == len(self.buf) and self._fill():
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return obj


def _collection_events(path: Path) -> Iterator[tuple[str, Any, Any]]:
    """("member", key, value) for top-level members and ("feature", n, feature) for each feature."""
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as err:
        raise InvalidRecord(f"{path.name}: cannot be read: {err.strerror}", param="path") from err
    with fh:
        s = _JsonStream(fh, path.name)
        s.expect("{", "at the start")
        if s.peek() == "}":
            s.pos += 1
        else:
            while True:
                key = s.value("member name")
                if not isinstance(key, str):
                    raise InvalidRecord(f"{path.name}: malformed GeoJSON: member name expected",
                                        param="features")
                s.expect(":", f"after {key!r}")
                if key == "features":
                    yield from _features(s)
                else:
                    yield "member", key, s.value(key)
                nxt = s.peek()
                s.expect("," if nxt == "," else "}", "between members")
                if nxt != ",":
                    break
        if s.peek():
            raise InvalidRecord(f"{path.name}: malformed GeoJSON: data after the FeatureCollection",
                                param="features")


def _features(s: _JsonStream) -> Iterator[tuple[str, int, Any]]:
    """The elements of the ``features`` array, numbered from 1."""
    s.expect("[", "to open features")
    if s.peek() == "]":
        s.pos += 1
        return
    n = 0
    while True:
        n += 1
        yield "feature", n, s.value(n)  # a number, not a name: formatted only for an error
        if s.peek() != ",":
            s.expect("]", f"after feature {n}")
            return
        s.pos += 1


# --------------------------------------------------------------------------- CSV
def read_csv(
    path: Path | str,
    kind: Kind | str,
    source: str = DEFAULT_SOURCE,
    *,
    updated_at: When = None,
    version: int | None = None,
) -> Iterator[Record]:
    """Records of ``kind`` from a CSV file with a header row, one row at a time; the first error raises."""
    return _raising(built(raw_csv(path, kind, source, updated_at=updated_at, version=version)))


def raw_csv(
    path: Path | str,
    kind: Kind | str,
    source: str = DEFAULT_SOURCE,
    *,
    updated_at: When = None,
    version: int | None = None,
) -> Iterator[Raw | InvalidRecord]:
    """Each row checked for a unique id but not validated (see ``build``), or its error, in file order."""
    path, kind = Path(path), Kind(kind)
    defaults = _Defaults(updated_at, version)
    seen: dict[str, int] = {}
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        yield InvalidRecord(f"{path.name}: cannot be read: {err.strerror}", param="path")
        return
    with fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            yield InvalidRecord(f"{path.name}: line 1: the header has no id column", param="id")
            return
        for row in reader:
            yield _attempt(_csv_head, path, kind, reader.line_num, row, source, defaults, seen)


def _csv_head(
    path: Path, kind: Kind, line: int, row: dict[str, Any], source: str, defaults: _Defaults, seen: dict[str, int]
) -> Raw:
    """Check that one CSV row has an id not used before in the file."""
    where = f"{path.name}: line {line}"
    source_id = (row.get("id") or "").strip()
    if not source_id:
        raise InvalidRecord(f"{where}: the row has no id", param="id")
    where = f"{where} (id {source_id!r})"
    if source_id in seen:
        raise InvalidRecord(f"{where}: duplicate id (first used on line {seen[source_id]})", param="id")
    seen[source_id] = line
    return Raw(fields_of=_row_fields, kind=kind, source=source, where=where, source_id=source_id, payload=row,
               defaults=defaults)


def _row_fields(raw: Raw) -> tuple[dict[str, Any], Any]:
    """A CSV row's cells as fields, and its geometry."""
    try:
        return csv_cells(raw.payload, skip=("id", "lon", "lat", "wkt")), csv_geometry(raw.payload)
    except CellError as err:
        raise InvalidRecord(f"{raw.where}: {err}", param=err.column) from err


# --------------------------------------------------------------------------- auxiliary: nodes
@dataclass(frozen=True, kw_only=True)
class GraphNode:
    """A road-graph node from nodes.geojson (junction, toll station, town …), for routing by name."""

    id: str
    name: str
    node_type: str
    lon: float
    lat: float
    roads: list[str] = field(default_factory=list)
    stakes: dict[str, float] = field(default_factory=dict)
    admin_code: str | None = None


def read_nodes(path: Path | str | None = None) -> list[GraphNode]:
    """The named nodes of the road graph (RoadSection.from_node/to_node refer to their ids)."""
    path = Path(path) if path is not None else BUNDLE_DIR / "nodes.geojson"
    nodes = []
    for event, n, feat in _collection_events(path):
        if event != "feature":
            continue
        try:
            props = feat["properties"]
            lon, lat = feat["geometry"]["coordinates"][:2]
            nodes.append(GraphNode(id=str(feat["id"]), name=props["name"], node_type=props["node_type"],
                                   lon=float(lon), lat=float(lat), roads=list(props.get("roads", [])),
                                   stakes=dict(props.get("stakes", {})), admin_code=props.get("admin_code")))
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidRecord(f"{path.name}: feature {n}: malformed node: {err!r}", param="properties") from err
    return nodes
