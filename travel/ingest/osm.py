"""Import OpenStreetMap extracts (``.osm.pbf``) into :class:`travel.core.records.RoadSection` records.

Only numbered roads are kept: ways tagged ``highway`` = motorway, trunk, primary, secondary or
tertiary (or their ``*_link`` ramps) whose ``ref`` holds a Chinese road code (``G4``, ``S88``,
``X012``...). Concurrent routes are tagged ``ref=G4;G30``: the first valid code becomes ``road`` and
the others are noted in :class:`OsmStats` (the model has no field for them).

The file is read in passes with osmium's sparse node-location cache, so a provincial extract
never has to fit in memory as Python objects:

0. read the turn-restriction relations only (they come last in a file);
1. count how often each node is used by kept ways, measure every kept way and resolve the turn
   restrictions against the sections the ways will be split into;
2. split each way at the nodes it shares with other kept ways (junctions) and build the sections.

**Stakes are chainage by geometry, not official 桩号.** OSM rarely maps stake posts, so
``start_stake_m``/``end_stake_m`` are cumulative great-circle lengths in metres along chains of
same-road ways touching end to end, whatever direction each way is digitized in. A chain is
numbered from its northern end (eastern end when it runs more east-west), like Chinese routes
(G4 from Beijing, G30 from Lianyungang): stakes may fall along a section (下行), and the two
carriageways of a dual carriageway are separate chains numbered the same way. Each chain starts at
0, so chain breaks (断链) and gaps in the mapping are not reproduced; calibrate with
:mod:`travel.core.linref` before matching official stakes.

**Turn restrictions** (``type=restriction`` relations: ``from`` way, ``via`` node, ``to`` way) become
``banned_turns`` (``{"to": section, "via": "n<via node>"}``: they hold at the via node only) of the
section of the ``from`` way that drives into the via node: ``no_*`` bans the
``to`` section(s) (``no_entry`` may name several ``from`` ways, ``no_exit`` several ``to`` ways),
``only_*`` bans every other section leaving the via node (not the ``from`` section itself). A way
passing through the via node is resolved by its one-way direction; when both of its sections there
could be meant, the relation is skipped. The route engine applies a ban to every vehicle, so a
relation is applied when it binds passenger cars, the vehicles most routes are for:

- ``restriction``, or else ``restriction:motor_vehicle``, ``restriction:vehicle`` or
  ``restriction:motorcar``, is read; a relation with nothing but ``restriction:hgv`` (or another class
  that leaves cars free) is skipped, and a ``motorcar``-only ban also stops trucks;
- a relation that is only time-limited (``restriction:conditional``, or legacy ``day_on``/``hour_on``
  tags) is skipped, as the model has no time; alongside a plain ``restriction`` the plain value is
  the permanent rule and is applied;
- ``except=`` naming ``motorcar``, ``motor_vehicle`` or ``vehicle`` exempts cars: skipped; other
  exemptions (``psv``, ``bicycle``, ``hgv``...) leave the ban in place for every vehicle.

Via-way restrictions, relations naming ways that are not kept or that do not end at the via node,
and malformed ones are skipped; every skip is counted in :attr:`OsmStats.skipped` under a
``restriction_*`` reason. To know which ways matter, the relations are read first in a cheap
relation-only pass; only the kept ways touching a via node are held until the sections are split.
"""

from __future__ import annotations

import logging
import operator
import re
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import osmium
import osmium.index
import osmium.osm
from pydantic import ValidationError

from travel.core.errors import InvalidRecord
from travel.core.records import ROAD_CODE_PATTERN, RoadClass, RoadSection
from travel.core.spatial import haversine_m

log = logging.getLogger(__name__)

# highway value → default speed (km/h) when the way has no usable maxspeed (Chinese design speeds).
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 120,
    "trunk": 100,
    "primary": 80,
    "secondary": 60,
    "tertiary": 40,
    "motorway_link": 60,
    "trunk_link": 50,
    "primary_link": 40,
    "secondary_link": 40,
    "tertiary_link": 30,
}
HIGHWAYS = frozenset(DEFAULT_SPEED_KMH)
_REF_CLASS = {"G": RoadClass.NATIONAL, "S": RoadClass.PROVINCIAL, "X": RoadClass.COUNTY}
_ROAD_CODE = re.compile(ROAD_CODE_PATTERN)
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z/']*)\s*$")
_FEET_INCHES = re.compile(r"^\s*([0-9]+)\s*'\s*(?:([0-9]+(?:\.[0-9]+)?)\s*\")?\s*$")
_WANTED_TAGS = frozenset(
    {"highway", "name", "name:zh", "oneway", "maxspeed", "lanes", "toll", "maxheight", "maxweight", "maxaxleload"}
)
_NO_TURNS = frozenset({"no_right_turn", "no_left_turn", "no_straight_on", "no_u_turn", "no_entry", "no_exit"})
_ONLY_TURNS = frozenset({"only_right_turn", "only_left_turn", "only_straight_on", "only_u_turn"})
# Keys of a restriction that binds passenger cars, in order of preference.
_CAR_RESTRICTIONS = ("restriction", "restriction:motor_vehicle", "restriction:vehicle", "restriction:motorcar")
_CAR_EXEMPTIONS = frozenset({"motorcar", "motor_vehicle", "vehicle"})
_LEGACY_TIME_TAGS = ("day_on", "day_off", "hour_on", "hour_off")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOCATION_INDEX = "sparse_mem_array"

Position = tuple[float, float]


@dataclass
class OsmStats:
    """What an import kept and skipped, so a caller can report a summary."""

    ways: int = 0
    sections: int = 0
    restrictions: int = 0  # turn-restriction relations turned into banned turns
    skipped: Counter[str] = field(default_factory=Counter)
    concurrent: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class _Way:
    """A kept way: its road codes, located nodes in travel direction and the tags the model needs."""

    id: int
    version: int
    timestamp: datetime
    road: str
    others: tuple[str, ...]
    tags: dict[str, str]
    nodes: list[int]
    coords: list[Position]


class _Ends(NamedTuple):
    """What chaining needs of a kept way: its road, end nodes, end positions and length."""

    road: str
    first: int
    last: int
    lonlat: tuple[Position, Position]
    length: float


class _Restriction(NamedTuple):
    """A turn-restriction relation: ``only_*`` (else ``no_*``), its from ways, via node and to ways."""

    only: bool
    froms: tuple[int, ...]
    via: int
    tos: tuple[int, ...]


class _Piece(NamedTuple):
    """A junction-to-junction piece of a way: its number in the section ids (None: degenerate), node span."""

    n: int | None
    start: int
    end: int


class _Outline(NamedTuple):
    """What the section ids of a way depend on, held compactly for the ways touching a via node."""

    id: int
    nodes: array[int]
    moved: bytes
    oneway: bool


class _End(NamedTuple):
    """A section ending at a via node, and whether traffic may drive into / out of the node on it."""

    section: str
    way: int
    into: bool
    out_of: bool


class _Survey(NamedTuple):
    """What pass 1 learns: junction nodes, stakes by way and banned turns by section source id."""

    shared: osmium.index.IdSet
    stakes: dict[int, tuple[float, int]]
    bans: dict[str, list[tuple[str, int]]]  # (banned section source id, via node) by from section


class _Skip(Exception):
    """A turn restriction that cannot be applied; ``reason`` is its key in :attr:`OsmStats.skipped`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_osm(
    path: Path,
    *,
    source: str = "osm",
    updated_at: datetime | None = None,
    stats: OsmStats | None = None,
) -> Iterator[RoadSection]:
    """Road sections of an OSM extract, junction to junction, one at a time."""
    path = Path(path)
    stats = stats if stats is not None else OsmStats()
    survey = _survey(path, _restrictions(path, stats), stats)
    fallback = datetime.now(UTC)
    for way in _kept_ways(path, None):
        when = updated_at or (way.timestamp if way.timestamp > _EPOCH else fallback)
        for section in _sections(way, survey, source, when):
            if section is None:
                stats.skipped["degenerate"] += 1
                continue
            stats.sections += 1
            yield section
    log.info(
        "osm import %s: %d ways → %d sections, %d turn restrictions; skipped %s",
        path.name, stats.ways, stats.sections, stats.restrictions, dict(stats.skipped) or "none",
    )


def _survey(path: Path, restrictions: list[_Restriction], stats: OsmStats) -> _Survey:
    """Pass 1: junctions, stakes, and the banned turns (only ways touching a via node are held)."""
    vias = {r.via for r in restrictions}
    members = {way for r in restrictions for way in (*r.froms, *r.tos)}
    seen, shared = osmium.index.IdSet(), osmium.index.IdSet()
    ends: dict[int, _Ends] = {}
    near_vias: list[_Outline] = []
    kept_members: set[int] = set()
    for way in _kept_ways(path, stats):
        for node in way.nodes:
            if node in seen:
                shared.set(node)
            seen.set(node)
        ends[way.id] = _Ends(road=way.road, first=way.nodes[0], last=way.nodes[-1],
                             lonlat=(way.coords[0], way.coords[-1]), length=_length(way.coords))
        if way.id in members:
            kept_members.add(way.id)
        if not vias.isdisjoint(way.nodes):
            near_vias.append(_Outline(way.id, array("q", way.nodes), _moved(way.coords),
                                      _oneway(way.tags.get("oneway"), way.tags["highway"])))
    del seen
    bans = _bans(restrictions, _ends_at(near_vias, shared, vias), kept_members, stats)
    return _Survey(shared, _chain_stakes(ends), bans)


# --------------------------------------------------------------------------- reading
@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Report osmium's read errors (missing, corrupt file) as InvalidRecord naming the file."""
    try:
        yield
    except RuntimeError as err:
        raise InvalidRecord(f"{path.name}: not a readable OSM file: {err}", param="file") from err


def _kept_ways(path: Path, stats: OsmStats | None) -> Iterator[_Way]:
    """Kept ways of the file; with ``stats`` the kept, skipped and concurrent ones are counted."""
    with _readable(path):
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations(_LOCATION_INDEX)
            .with_filter(osmium.filter.KeyFilter("highway"))
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        )
        for obj in processor:
            way, reason = _parse_way(obj)
            if stats is not None and reason:
                stats.skipped[reason] += 1
            if way is None:
                continue
            if stats is not None:
                stats.ways += 1
                if way.others:
                    stats.concurrent.setdefault(way.road, set()).update(way.others)
            yield way


def _parse_way(obj: Any) -> tuple[_Way | None, str | None]:
    """The kept way of an osmium way, or None and why it is skipped (None: not a road we keep)."""
    tags = obj.tags
    if tags.get("highway") not in HIGHWAYS:
        return None, None
    codes = _road_codes(tags.get("ref", ""))
    if not codes:
        return None, "no_ref"
    nodes, coords = [], []
    for ref in obj.nodes:
        loc = ref.location
        if loc.valid():
            nodes.append(ref.ref)
            coords.append((loc.lon, loc.lat))
    if len(nodes) < 2:
        return None, "unlocated"
    if tags.get("oneway") == "-1":
        nodes.reverse()
        coords.reverse()
    wanted = {t.k: t.v for t in tags if t.k in _WANTED_TAGS}
    return _Way(id=obj.id, version=obj.version, timestamp=obj.timestamp, road=codes[0], others=tuple(codes[1:]),
                tags=wanted, nodes=nodes, coords=coords), None


def _road_codes(ref: str) -> list[str]:
    """Valid road codes of a ``ref`` tag in order (``"G4; G30"`` → ``["G4", "G30"]``)."""
    codes = (part.replace(" ", "").upper() for part in ref.split(";"))
    return [code for code in codes if _ROAD_CODE.match(code)]


# --------------------------------------------------------------------------- turn restrictions
def _restrictions(path: Path, stats: OsmStats) -> list[_Restriction]:
    """Pass 0, relations only: the file's turn restrictions (the ones that cannot apply counted)."""
    found = []
    with _readable(path):
        processor = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
            osmium.filter.TagFilter(("type", "restriction")))
        for obj in processor:
            try:
                found.append(_parse_restriction(obj))
            except _Skip as skip:
                stats.skipped[skip.reason] += 1
    return found


def _parse_restriction(obj: Any) -> _Restriction:
    """The restriction of an osmium relation; raises _Skip naming why it cannot be applied."""
    value = _restriction_value(obj.tags)
    roles: dict[str, list[tuple[str, int]]] = {"from": [], "via": [], "to": []}
    for member in obj.members:
        if member.role in roles:
            roles[member.role].append((member.type, member.ref))
    froms, vias, tos = roles["from"], roles["via"], roles["to"]
    if any(kind == "w" for kind, _ in vias):
        raise _Skip("restriction_via_way")
    if [kind for kind, _ in vias] != ["n"] or not froms or not tos or any(kind != "w" for kind, _ in froms + tos):
        raise _Skip("restriction_malformed")
    return _Restriction(value in _ONLY_TURNS, tuple(ref for _, ref in froms), vias[0][1], tuple(ref for _, ref in tos))


def _restriction_value(tags: Any) -> str:
    """The ``no_*``/``only_*`` value passenger cars must obey; _Skip when there is none."""
    if any(key in tags for key in _LEGACY_TIME_TAGS):
        raise _Skip("restriction_conditional")
    if _CAR_EXEMPTIONS & {part.strip() for part in tags.get("except", "").split(";")}:
        raise _Skip("restriction_except")
    value = next((tags[key].strip() for key in _CAR_RESTRICTIONS if key in tags), None)
    if value is None:
        if "restriction:conditional" in tags:
            raise _Skip("restriction_conditional")
        vehicle_only = any(tag.k.startswith("restriction:") for tag in tags)
        raise _Skip("restriction_vehicle" if vehicle_only else "restriction_malformed")
    if value not in _NO_TURNS and value not in _ONLY_TURNS:
        raise _Skip("restriction_unknown_value")
    return value


def _ends_at(ways: list[_Outline], shared: osmium.index.IdSet, vias: set[int]) -> dict[int, list[_End]]:
    """By via node, the sections of ``ways`` ending there, with the ids pass 2 gives them."""
    found: dict[int, list[_End]] = {}
    for way in ways:
        both_ways = not way.oneway
        for piece in _pieces(way.nodes, way.moved, shared):
            if piece.n is None:
                continue
            section = _source_id(way.id, piece.n)
            first, last = way.nodes[piece.start], way.nodes[piece.end]
            if first in vias:
                found.setdefault(first, []).append(_End(section, way.id, into=both_ways, out_of=True))
            if last in vias:
                found.setdefault(last, []).append(_End(section, way.id, into=True, out_of=both_ways))
    return found


def _bans(restrictions: list[_Restriction], ends_at: dict[int, list[_End]], kept: set[int],
          stats: OsmStats) -> dict[str, list[tuple[str, int]]]:
    """(banned section source id, via node) by the source id of the section they may not be entered from."""
    bans: dict[str, set[tuple[str, int]]] = {}
    for restriction in restrictions:
        try:
            turns = _banned_turns(restriction, ends_at.get(restriction.via, []), kept)
        except _Skip as skip:
            stats.skipped[skip.reason] += 1
            continue
        stats.restrictions += 1
        for from_section, to_section in turns:
            bans.setdefault(from_section, set()).add((to_section, restriction.via))
    return {section: sorted(banned) for section, banned in bans.items()}


def _banned_turns(restriction: _Restriction, at_via: list[_End], kept: set[int]) -> list[tuple[str, str]]:
    """(from section, banned section) pairs of one restriction, from the sections ending at its via node."""
    if not kept.issuperset((*restriction.froms, *restriction.tos)):
        raise _Skip("restriction_not_kept")
    froms = [_member_section(at_via, way, into=True) for way in restriction.froms]
    tos = {_member_section(at_via, way, into=False) for way in restriction.tos}
    if restriction.only:
        leaving = {end.section for end in at_via if end.out_of}
        return [(f, t) for f in froms for t in sorted(leaving - tos - {f})]
    return [(f, t) for f in froms for t in sorted(tos)]


def _member_section(at_via: list[_End], way: int, *, into: bool) -> str:
    """The section of a ``from`` way driving into the via node (``into``) or of a ``to`` way leaving it."""
    ends = [end for end in at_via if end.way == way]
    if not ends:
        raise _Skip("restriction_not_at_via")
    usable = {end.section for end in ends if (end.into if into else end.out_of)}
    if not usable:
        raise _Skip("restriction_wrong_way")
    if len(usable) > 1:  # a two-way way passing through the via node: which side is meant?
        raise _Skip("restriction_ambiguous")
    return usable.pop()


# --------------------------------------------------------------------------- stakes
def _length(coords: list[Position]) -> float:
    """Great-circle length in metres of a polyline."""
    return sum(haversine_m(*a, *b) for a, b in zip(coords, coords[1:], strict=False))


def _chain_stakes(ends: dict[int, _Ends]) -> dict[int, tuple[float, int]]:
    """Stake at every way's first node and whether stakes rise (+1) or fall (-1) along it.

    Same-road ways touching end to end are walked as one chain, whichever way each is digitized; a
    chain runs north to south, or east to west when it runs more east-west, like Chinese route
    numbering (G4 from Beijing, G30 from Lianyungang), so both carriageways share one direction.
    """
    touching: dict[tuple[str, int], list[int]] = {}
    for way_id in sorted(ends):
        end = ends[way_id]
        touching.setdefault((end.road, end.first), []).append(way_id)
        touching.setdefault((end.road, end.last), []).append(way_id)
    seeds = [(w, True) for w in sorted(ends) if len(touching[(ends[w].road, ends[w].first)]) == 1]
    seeds += [(w, False) for w in sorted(ends) if len(touching[(ends[w].road, ends[w].last)]) == 1]
    stakes: dict[int, tuple[float, int]] = {}
    for seed, forward in [*seeds, *((w, True) for w in sorted(ends))]:
        if seed not in stakes:
            _walk(ends, touching, seed, forward, stakes)
    return stakes


def _walk(
    ends: dict[int, _Ends],
    touching: dict[tuple[str, int], list[int]],
    way_id: int,
    forward: bool,
    stakes: dict[int, tuple[float, int]],
) -> None:
    """Number one chain from ``way_id`` (entered at its first node when ``forward``) into ``stakes``."""
    chain: list[int] = []
    entry = ends[way_id].lonlat[0 if forward else 1]
    stake = 0.0
    current: int | None = way_id
    while current is not None:
        end = ends[current]
        stakes[current] = (stake, 1) if forward else (stake + end.length, -1)
        chain.append(current)
        stake += end.length
        exit_node = end.last if forward else end.first
        following = [w for w in touching[(end.road, exit_node)] if w not in stakes]
        following.sort(key=lambda w: ends[w].first != exit_node)  # prefer ways continuing forward
        current = following[0] if following else None
        forward = current is not None and ends[current].first == exit_node
    (lon0, lat0), (lon1, lat1) = entry, end.lonlat[1] if stakes[chain[-1]][1] > 0 else end.lonlat[0]
    # The walk ended north (or east) of where it began: renumber from the other end.
    backwards = lat1 > lat0 if abs(lat1 - lat0) >= abs(lon1 - lon0) else lon1 > lon0
    if backwards:
        for w in chain:
            base, sign = stakes[w]
            stakes[w] = (stake - base, -sign)


# --------------------------------------------------------------------------- sections
def _pieces(nodes: Sequence[int], moved: bytes, shared: osmium.index.IdSet) -> Iterator[_Piece]:
    """A way split at nodes other kept ways use too (junctions), pieces numbered as their section ids.

    The one place ids come from: sections are built from these pieces and turn restrictions name
    sections through them, so both agree on the splits and on which pieces are degenerate (all
    their nodes on one spot, see :func:`_moved`).
    """
    start, n = 0, 0
    last = len(nodes) - 1
    for i in range(1, last + 1):
        if i < last and nodes[i] not in shared:
            continue
        if any(moved[start + 1 : i + 1]):
            yield _Piece(n, start, i)
            n += 1
        else:
            yield _Piece(None, start, i)
        start = i


def _moved(coords: list[Position]) -> bytes:
    """For each node, 1 when it is not on the previous node's spot (the first node counts as moved)."""
    return bytes([1, *map(operator.ne, coords, coords[1:])])


def _source_id(way_id: int, n: int) -> str:
    """Source id of a way's ``n``-th section."""
    return f"w{way_id}-{n}"


def _record_id(source: str, source_id: str) -> str:
    """Record id of a section, as banned turns name it."""
    return f"{source}:{source_id}"


def _sections(way: _Way, survey: _Survey, source: str, updated_at: datetime) -> Iterator[RoadSection | None]:
    """The way's sections, junction to junction, with their banned turns; None for a zero-length piece."""
    fields = _way_fields(way)
    base, sign = survey.stakes[way.id]
    along = 0.0
    for piece in _pieces(way.nodes, _moved(way.coords), survey.shared):
        if piece.n is None:
            yield None
            continue
        coords = _dedupe(way.coords[piece.start : piece.end + 1])
        length = _length(coords)
        source_id = _source_id(way.id, piece.n)
        banned = [{"to": _record_id(source, to), "via": f"n{via}"} for to, via in survey.bans.get(source_id, ())]
        stakes = (base + sign * along, base + sign * (along + length))
        yield _section(way, piece, coords, source_id, source, updated_at, {**fields, "banned_turns": banned}, stakes)
        along += length


def _dedupe(coords: list[Position]) -> list[Position]:
    """Drop repeated consecutive positions (two nodes mapped on the same spot)."""
    return [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]


def _section(
    way: _Way,
    piece: _Piece,
    coords: list[Position],
    source_id: str,
    source: str,
    updated_at: datetime,
    fields: dict[str, Any],
    stakes: tuple[float, float],
) -> RoadSection:
    """Validate one section; a failure names the way and the field."""
    data = {
        "id": _record_id(source, source_id),
        "source": source,
        "source_id": source_id,
        "version": way.version,
        "updated_at": updated_at,
        "from_node": f"n{way.nodes[piece.start]}",
        "to_node": f"n{way.nodes[piece.end]}",
        "start_stake_m": round(max(stakes[0], 0.0), 1),
        "end_stake_m": round(max(stakes[1], 0.0), 1),
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
        **fields,
    }
    try:
        return RoadSection.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or "record"
        raise InvalidRecord(f"OSM way {way.id}: {loc}: {first['msg']}", param=loc) from err


def _way_fields(way: _Way) -> dict[str, Any]:
    """Model fields shared by every section of a way, from its tags."""
    tags = way.tags
    highway = tags["highway"]
    restrictions = {
        "max_height_m": _height_m(tags.get("maxheight")),
        "max_weight_t": _weight_t(tags.get("maxweight")),
        "max_axle_load_t": _weight_t(tags.get("maxaxleload")),
    }
    restrictions = {k: v for k, v in restrictions.items() if v is not None}
    return {
        "road": way.road,
        "road_name": tags.get("name:zh") or tags.get("name") or way.road,
        "road_class": _road_class(highway, way.road),
        "oneway": _oneway(tags.get("oneway"), highway),
        "speed_kmh": _speed_kmh(tags.get("maxspeed")) or DEFAULT_SPEED_KMH[highway],
        "lanes": _int(tags.get("lanes")),
        "toll": tags.get("toll") == "yes",
        "restrictions": restrictions or None,
    }


# --------------------------------------------------------------------------- tag values
def _road_class(highway: str, road: str) -> RoadClass:
    """Expressway for motorways, else the administrative class the road code's letter gives."""
    if highway.startswith("motorway"):
        return RoadClass.EXPRESSWAY
    return _REF_CLASS.get(road[0], RoadClass.OTHER)


def _oneway(value: str | None, highway: str) -> bool:
    """Explicit ``oneway`` wins; motorways and their ramps are one-way unless tagged otherwise."""
    if value in ("yes", "true", "1", "-1"):
        return True
    if value in ("no", "false", "0"):
        return False
    return highway in ("motorway", "motorway_link")


def _number(value: str | None) -> tuple[float, str] | None:
    """A tag's leading number and unit (``"80 mph"`` → ``(80.0, "mph")``), None when not numeric."""
    if value is None:
        return None
    match = _NUMBER.match(value.split(";")[0])
    return (float(match[1]), match[2].lower()) if match else None


def _speed_kmh(value: str | None) -> float | None:
    """``maxspeed`` in km/h (mph and knots converted); None for symbolic values such as ``CN:motorway``."""
    parsed = _number(value)
    if parsed is None:
        return None
    number, unit = parsed
    factor = {"": 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}.get(unit)
    return round(number * factor, 1) if factor else None


def _height_m(value: str | None) -> float | None:
    """``maxheight`` in metres (feet-and-inches converted); None when absent or symbolic."""
    if value is not None and (imperial := _FEET_INCHES.match(value)):
        return round(int(imperial[1]) * 0.3048 + float(imperial[2] or 0) * 0.0254, 2)
    parsed = _number(value)
    if parsed is None:
        return None
    factor = {"": 1.0, "m": 1.0, "ft": 0.3048}.get(parsed[1])
    return round(parsed[0] * factor, 2) if factor else None


def _weight_t(value: str | None) -> float | None:
    """``maxweight``/``maxaxleload`` in tonnes (kg, lbs and short tons converted); None when symbolic."""
    parsed = _number(value)
    if parsed is None:
        return None
    factor = {"": 1.0, "t": 1.0, "kg": 0.001, "lbs": 0.00045359237, "st": 0.90718474}.get(parsed[1])
    return round(parsed[0] * factor, 3) if factor else None


def _int(value: str | None) -> int | None:
    """A whole-number tag such as ``lanes``; None when absent or not a whole number."""
    parsed = _number(value)
    return int(parsed[0]) if parsed and not parsed[1] and parsed[0].is_integer() else None
