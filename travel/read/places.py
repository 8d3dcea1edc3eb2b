"""Place resolution: turn what a traveller types (郑州, 许昌东站, G4, 410100, 113.85,34.03) into places.

Answers depend on the read model alone. A ``PlaceResolver`` (one per read model, made by the app)
keeps its lookup tables, built lazily and rebuilt only when a source view's ``generation`` moves, so
a request costs one scan of a few hundred names.
Ambiguous queries answer several ranked candidates; the caller chooses, nothing is guessed silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from shapely.geometry import Point
from shapely.prepared import PreparedGeometry, prep

from travel.core.crs import Crs, to_wgs84
from travel.core.errors import InvalidParameter
from travel.core.geometry import check_lon_lat
from travel.core.records import AdminArea, AdminLevel, Kind, Poi, RoadSection
from travel.read.readmodel import ReadModel


class PlaceKind(StrEnum):
    """What a candidate is; the order of members is the tie-break priority."""

    CITY = "city"
    COUNTY = "county"
    PROVINCE = "province"
    ROAD = "road"
    TOLL_STATION = "toll_station"
    SERVICE_AREA = "service_area"
    INTERCHANGE = "interchange"
    BUS_STATION = "bus_station"
    GAS_STATION = "gas_station"
    COORDINATES = "coordinates"


PRIORITY: dict[PlaceKind, int] = {kind: n for n, kind in enumerate(PlaceKind)}
_ADMIN_KINDS = {AdminLevel.PREFECTURE: PlaceKind.CITY, AdminLevel.COUNTY: PlaceKind.COUNTY,
                AdminLevel.PROVINCE: PlaceKind.PROVINCE}

# Scores per match tier; a query suffix naming the candidate's kind adds HINT_BONUS within its tier.
EXACT, STRIPPED, PREFIX, CONTAINS = 1.0, 0.9, 0.7, 0.5
HINT_BONUS = 0.05

# Generic suffixes, longest first so 收费站 wins over 站; each maps to the kinds it hints at.
SUFFIXES: tuple[tuple[str, frozenset[PlaceKind]], ...] = tuple(
    (suffix, frozenset(kinds)) for suffix, kinds in (
        ("高速公路", {PlaceKind.ROAD}),
        ("长途汽车站", {PlaceKind.BUS_STATION}),
        ("收费站", {PlaceKind.TOLL_STATION}),
        ("服务区", {PlaceKind.SERVICE_AREA}),
        ("停车区", {PlaceKind.SERVICE_AREA}),
        ("加油站", {PlaceKind.GAS_STATION}),
        ("汽车站", {PlaceKind.BUS_STATION}),
        ("客运站", {PlaceKind.BUS_STATION}),
        ("高速", {PlaceKind.ROAD}),
        ("枢纽", {PlaceKind.INTERCHANGE}),
        ("互通", {PlaceKind.INTERCHANGE}),
        ("立交", {PlaceKind.INTERCHANGE}),
        ("市", {PlaceKind.CITY, PlaceKind.COUNTY}),
        ("县", {PlaceKind.COUNTY}),
        ("区", {PlaceKind.COUNTY}),
        ("省", {PlaceKind.PROVINCE}),
        ("站", {PlaceKind.TOLL_STATION, PlaceKind.BUS_STATION}),
    )
)
MIN_STEM = 2  # never strip a name below two characters (新县 stays 新县)

_COORDS = re.compile(r"^([+-]?\d+(?:\.\d+)?),([+-]?\d+(?:\.\d+)?)$")
_ROAD_CODE = re.compile(r"^[GSXYZ]\d{1,4}$")
_ADMIN_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One answer to a place query, positioned in WGS84."""

    kind: PlaceKind
    id: str
    name: str
    lon: float
    lat: float
    score: float
    admin_code: str | None = None
    admin_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    """A searchable place: its names as typed (``names``) and without generic suffix (``stem``)."""

    kind: PlaceKind
    id: str
    name: str
    names: tuple[str, ...]
    stem: str
    lon: float
    lat: float
    admin_code: str | None
    admin_name: str | None

    def candidate(self, score: float) -> Candidate:
        """The entry as an answer scored ``score``."""
        return Candidate(kind=self.kind, id=self.id, name=self.name, lon=self.lon, lat=self.lat,
                         score=round(score, 3), admin_code=self.admin_code, admin_name=self.admin_name)


@dataclass(slots=True)
class _Admin:
    """Admin areas by code, and prefecture outlines for point-in-polygon."""

    by_code: dict[str, AdminArea] = field(default_factory=dict)
    prefectures: list[tuple[PreparedGeometry, AdminArea]] = field(default_factory=list)

    def prefecture_of_code(self, code: str) -> tuple[str, str | None]:
        """The prefecture (code, name) an admin code belongs to; the name is None when unknown."""
        area = self.by_code.get(code)
        if area is not None and area.level is AdminLevel.COUNTY and area.parent_code:
            area = self.by_code.get(area.parent_code, area)
        if area is None:
            area = self.by_code.get(code[:4] + "00")
        return (area.code, area.name) if area is not None else (code, None)

    def prefecture_at(self, lon: float, lat: float) -> tuple[str | None, str | None]:
        """The prefecture containing a point, by its outline; (None, None) outside all of them."""
        point = Point(lon, lat)
        for outline, area in self.prefectures:
            if outline.covers(point):
                return area.code, area.name
        return None, None


@dataclass(slots=True)
class _Tables:
    """Lookup tables of one read model, each tagged with the view generations it was built from."""

    admin: _Admin = field(default_factory=_Admin)
    admin_entries: list[_Entry] = field(default_factory=list)
    poi_entries: list[_Entry] = field(default_factory=list)
    road_entries: list[_Entry] = field(default_factory=list)
    generations: dict[str, tuple[int, ...]] = field(default_factory=dict)


# The views places are resolved from: an answer changes only when one of them does.
PLACE_KINDS = (Kind.ADMIN_AREA, Kind.POI, Kind.ROAD_SECTION)


def normalize(text: str) -> str:
    """Fold full-width forms and case and drop whitespace, so Ｇ４, g 4 and G4 compare equal."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def strip_suffix(name: str) -> tuple[str, frozenset[PlaceKind]]:
    """``name`` without one generic suffix (市, 收费站, 服务区 …) and the kinds that suffix hints at."""
    for suffix, kinds in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_STEM:
            return name[: -len(suffix)], kinds
    return name, frozenset()


def _admin_point(area: AdminArea) -> tuple[float, float]:
    """An area's centroid when it lies inside the outline, else a point guaranteed inside."""
    shape = area.geometry.shape
    point = shape.centroid
    if not shape.covers(point):
        point = shape.representative_point()
    return point.x, point.y


def _build_admin(model: ReadModel) -> tuple[_Admin, list[_Entry]]:
    """Admin lookup plus one entry per area (name and short name both count as exact)."""
    admin = _Admin()
    areas = [r for r in model.view(Kind.ADMIN_AREA).records.values() if isinstance(r, AdminArea)]
    for area in areas:
        admin.by_code[area.code] = area
        if area.level is AdminLevel.PREFECTURE and area.geometry.type != "Point":
            admin.prefectures.append((prep(area.geometry.shape), area))
    admin.prefectures.sort(key=lambda pair: pair[1].code)
    entries: list[_Entry] = []
    for area in areas:
        lon, lat = _admin_point(area)
        own = (area.code, area.name)
        code, name = admin.prefecture_of_code(area.code) if area.level is AdminLevel.COUNTY else own
        names = tuple(normalize(n) for n in dict.fromkeys((area.name, area.short_name)))
        entries.append(_Entry(kind=_ADMIN_KINDS[area.level], id=area.code, name=area.name, names=names,
                              stem=strip_suffix(normalize(area.name))[0], lon=lon, lat=lat, admin_code=code,
                              admin_name=name))
    return admin, entries


def _build_pois(model: ReadModel, admin: _Admin) -> list[_Entry]:
    """One entry per POI, placed in its prefecture by admin code or else by its position."""
    entries: list[_Entry] = []
    for poi in model.view(Kind.POI).records.values():
        if not isinstance(poi, Poi):
            continue
        lon, lat = poi.geometry.coordinates[:2]
        if poi.admin_code:
            code, name = admin.prefecture_of_code(poi.admin_code)
        else:
            code, name = admin.prefecture_at(lon, lat)
        key = normalize(poi.name)
        entries.append(_Entry(kind=PlaceKind(poi.poi_kind.value), id=poi.id, name=poi.name, names=(key,),
                              stem=strip_suffix(key)[0], lon=lon, lat=lat, admin_code=code, admin_name=name))
    return entries


def _build_roads(model: ReadModel) -> list[_Entry]:
    """One entry per road code, positioned at the middle of its middle section (by stake).

    A road crosses many prefectures, so it carries no admin area.
    """
    by_road: dict[str, list[RoadSection]] = {}
    for record in model.view(Kind.ROAD_SECTION).records.values():
        if isinstance(record, RoadSection):
            by_road.setdefault(record.road, []).append(record)
    entries: list[_Entry] = []
    for road, sections in sorted(by_road.items()):
        sections.sort(key=lambda s: (s.start_stake_m, s.id))
        middle = sections[len(sections) // 2]
        point = middle.geometry.shape.interpolate(0.5, normalized=True)
        name = middle.road_name
        key = normalize(name)
        entries.append(_Entry(kind=PlaceKind.ROAD, id=road, name=name, names=(road, key), stem=strip_suffix(key)[0],
                              lon=point.x, lat=point.y, admin_code=None, admin_name=None))
    return entries


def _coordinates(match: re.Match[str], crs: Crs, admin: _Admin) -> Candidate:
    """A ``lon,lat`` query (given in ``crs``) as a candidate in WGS84; out of range is a 400 on q."""
    lon, lat = float(match[1]), float(match[2])
    try:
        check_lon_lat(lon, lat)
    except ValueError as err:
        raise InvalidParameter(f"parameter 'q': {err} (coordinates are lon,lat)", param="q") from None
    try:
        lon, lat = to_wgs84(lon, lat, crs)
    except ValueError as err:
        raise InvalidParameter(f"parameter 'q': {err}", param="q") from None
    code, name = admin.prefecture_at(lon, lat)
    ident = f"{lon:.6f},{lat:.6f}"
    return Candidate(kind=PlaceKind.COORDINATES, id=ident, name=ident, lon=lon, lat=lat, score=EXACT, admin_code=code,
                     admin_name=name)


def _score(entry: _Entry, query: str, stem: str, hints: frozenset[PlaceKind]) -> float | None:
    """The tier score of ``entry`` for a query (and its stem), or None when it does not match."""
    if query in entry.names:
        return EXACT
    bonus = HINT_BONUS if entry.kind in hints else 0.0
    if stem == entry.stem or query == entry.stem:
        return STRIPPED + bonus
    if any(n.startswith(stem) for n in entry.names):
        return PREFIX + bonus
    if any(stem in n for n in entry.names):
        return CONTAINS + bonus
    return None


def _matches(entries: Iterable[_Entry], query: str) -> list[Candidate]:
    """Every entry matching ``query`` by name, scored."""
    stem, hints = strip_suffix(query)
    out: list[Candidate] = []
    for entry in entries:
        score = _score(entry, query, stem, hints)
        if score is not None:
            out.append(entry.candidate(score))
    return out


class PlaceResolver:
    """Resolves queries against one read model, keeping lookup tables that follow its views' generations."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self._tables = _Tables()

    def resolve(self, q: str, *, limit: int = 10, kinds: Collection[PlaceKind] | None = None,
                crs: Crs = Crs.WGS84) -> list[Candidate]:
        """Ranked candidates for ``q``: best score, then kind priority, then name; at most ``limit``.

        ``crs`` is the system a ``lon,lat`` query is given in; candidates are always WGS84.
        """
        query = normalize(q)
        if not query:
            return []
        tables = self._current()
        if coords := _COORDS.match(query):
            found = [_coordinates(coords, crs, tables.admin)]
        elif _ADMIN_CODE.match(query):
            found = [e.candidate(EXACT) for e in tables.admin_entries if e.id == query]
        elif _ROAD_CODE.match(query):
            found = [e.candidate(EXACT) for e in tables.road_entries if e.id == query]
        else:
            found = _matches((*tables.admin_entries, *tables.road_entries, *tables.poi_entries), query)
        if kinds:
            found = [c for c in found if c.kind in kinds]
        found.sort(key=lambda c: (-c.score, PRIORITY[c.kind], c.name, c.id))
        return found[:limit]

    def _current(self) -> _Tables:
        """The lookup tables, rebuilding only those whose source views changed."""
        model, tables = self.model, self._tables
        admin_gen = (model.view(Kind.ADMIN_AREA).generation,)
        poi_gen = (model.view(Kind.POI).generation, *admin_gen)
        road_gen = (model.view(Kind.ROAD_SECTION).generation,)
        if tables.generations.get("admin") != admin_gen:
            tables.admin, tables.admin_entries = _build_admin(model)
            tables.generations["admin"] = admin_gen
        if tables.generations.get("poi") != poi_gen:
            tables.poi_entries = _build_pois(model, tables.admin)
            tables.generations["poi"] = poi_gen
        if tables.generations.get("road") != road_gen:
            tables.road_entries = _build_roads(model)
            tables.generations["road"] = road_gen
        return tables
