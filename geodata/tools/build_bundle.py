"""Build the bundled Henan reference data (geodata/*.geojson, *.csv, bundle.json) from tables.py.

Run ``.venv/bin/python -m geodata.tools.build_bundle`` from the repository root. The output is
deterministic: the same tables give byte-identical files. All lengths, stakes and positions along a
road are computed in a transverse-Mercator projection centred on Henan (metres; scale error below
0.1 % inside the province), never in degrees.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from geodata.tools import tariff
from geodata.tools.tables import (
    BUS_STATIONS,
    EXPRESSWAYS,
    GAS_STATIONS,
    GAUGES,
    OUTLINE,
    OUTSIDE,
    PLACES,
    PREFECTURES,
    PROVINCE,
    TRUNKS,
    WATERWAYS,
    End,
    LonLat,
    Road,
    Station,
)

OUT = Path(__file__).resolve().parent.parent
UPDATED_AT = "2026-11-24T00:00:00+08:00"
SOURCE_NOTE = "hand-compiled from general public knowledge; approximate (see geodata/README.md)"
LOCAL_CRS = "+proj=tmerc +lat_0=34 +lon_0=113.5 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
MAX_SECTION_M = 30_000.0
MIN_GAP_M = 1_500.0
LINK_RADIUS_M = 6_000.0
_FWD = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
_INV = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)

# Reference points just outside each neighbouring province, to name border nodes (豫冀省界 …).
_NEIGHBOURS: dict[str, list[LonLat]] = {
    "冀": [(114.4, 36.5), (115.2, 36.45)],
    "鲁": [(115.9, 36.2), (115.6, 35.4), (115.3, 35.1), (115.8, 34.8), (116.1, 34.75)],
    "皖": [(116.4, 34.55), (116.5, 34.4), (116.8, 33.9), (115.8, 33.6), (115.5, 33.1), (115.7, 32.6),
          (116.2, 32.1), (116.0, 31.8)],
    "鄂": [(115.2, 31.2), (114.3, 31.5), (113.6, 31.9), (112.8, 32.1), (112.0, 32.2), (111.2, 32.6)],
    "陕": [(110.7, 33.4), (110.2, 34.0), (110.2, 34.5)],
    "晋": [(110.9, 34.9), (111.8, 35.2), (112.6, 35.5), (113.4, 35.7), (113.5, 36.2)],
}
WARNINGS: list[str] = []


def warn(msg: str) -> None:
    """Record a consistency warning (printed at the end; the build fails on any)."""
    WARNINGS.append(msg)


def to_xy(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 lon/lat → local metres."""
    x, y = _FWD.transform(lon, lat)
    return float(x), float(y)


def to_ll(x: float, y: float) -> LonLat:
    """Local metres → WGS84 lon/lat rounded to 1e-6° (about 0.1 m)."""
    lon, lat = _INV.transform(x, y)
    return round(float(lon), 6), round(float(lat), 6)


def geom_ll(geom: BaseGeometry) -> BaseGeometry:
    """A metric geometry in lon/lat."""
    return shapely.transform(geom, lambda a: _stack(_INV.transform(a[:, 0], a[:, 1])))


def geom_xy(geom: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry in metres."""
    return shapely.transform(geom, lambda a: _stack(_FWD.transform(a[:, 0], a[:, 1])))


def _stack(xy: tuple[Any, Any]) -> Any:
    import numpy as np

    return np.column_stack(xy)


# --------------------------------------------------------------------------- network model
@dataclass(eq=False)
class Node:
    """A graph node: border crossing, junction, toll station, service area, town or split point."""

    id: str
    name: str
    node_type: str
    lon: float
    lat: float
    roads: list[str] = field(default_factory=list)
    stakes: dict[str, float] = field(default_factory=dict)

    @property
    def xy(self) -> tuple[float, float]:
        """Position in local metres."""
        return to_xy(self.lon, self.lat)


@dataclass(eq=False)
class Vertex:
    """One vertex of a road alignment, optionally a node."""

    lon: float
    lat: float
    node: Node | None = None

    @property
    def xy(self) -> tuple[float, float]:
        """Position in local metres."""
        return to_xy(self.lon, self.lat)


NODES: dict[str, Node] = {}
ALIGN: dict[str, list[Vertex]] = {}
ROADS: dict[str, Road] = {r.code: r for r in [*EXPRESSWAYS, *TRUNKS]}
STATIONS: dict[tuple[str, str, str], Node] = {}  # (road, kind, slug) → node
OUTLINE_XY = Polygon([to_xy(*p) for p in OUTLINE])


def new_node(node_id: str, name: str, node_type: str, lon: float, lat: float) -> Node:
    """Register a node (ids must be unique)."""
    if node_id in NODES:
        raise SystemExit(f"duplicate node id {node_id}")
    node = Node(node_id, name, node_type, round(lon, 6), round(lat, 6))
    NODES[node_id] = node
    return node


def place_node(name: str) -> Node:
    """The node of a town (urban centres of prefectures get C.<code>), created once."""
    place = PLACES[name]
    codes = {short: code for code, _, short in PREFECTURES}
    node_id = f"C.{codes[name]}" if name in codes else f"T.{place.slug}"
    if node_id not in NODES:
        new_node(node_id, name, "city" if name in codes else "town", place.lon, place.lat)
    return NODES[node_id]


def line_of(road: str) -> LineString:
    """The metric alignment of a road."""
    return LineString([v.xy for v in ALIGN[road]])


def cumulative(road: str) -> list[float]:
    """Metric distance of every vertex from the start of the alignment."""
    out, total, prev = [], 0.0, None
    for v in ALIGN[road]:
        xy = v.xy
        if prev is not None:
            total += math.dist(prev, xy)
        out.append(total)
        prev = xy
    return out


def insert_node(road: str, node: Node, *, tolerance_m: float = 1.0) -> None:
    """Put ``node`` into the alignment of ``road`` at its projected position (merging with a vertex)."""
    verts = ALIGN[road]
    line = line_of(road)
    d = line.project(Point(node.xy))
    dist = cumulative(road)
    for v, dv in zip(verts, dist, strict=True):
        if abs(dv - d) <= tolerance_m and math.dist(v.xy, node.xy) <= tolerance_m:
            if v.node is not None and v.node is not node:
                warn(f"{road}: {node.id} falls on {v.node.id}")
                return
            v.node, v.lon, v.lat = node, node.lon, node.lat
            break
    else:
        i = next((k for k in range(1, len(dist)) if dist[k] >= d), len(dist) - 1)
        if i == 0:
            i = 1
        verts.insert(i, Vertex(node.lon, node.lat, node))
    if road not in node.roads:
        node.roads.append(road)


def point_at(road: str, d: float) -> LonLat:
    """The lon/lat of the point ``d`` metres along the alignment."""
    p = line_of(road).interpolate(d)
    return to_ll(p.x, p.y)


def border_name(lon: float, lat: float) -> str:
    """豫X省界 for a border point, X the nearest neighbouring province."""
    best = min(
        ((math.dist((lon, lat), p), abbr) for abbr, pts in _NEIGHBOURS.items() for p in pts),
        key=lambda t: t[0],
    )
    return f"豫{best[1]}省界"


def nearest_place(lon: float, lat: float) -> str:
    """Name of the nearest gazetteer place."""
    x, y = to_xy(lon, lat)
    return min(PLACES.values(), key=lambda p: math.dist(to_xy(p.lon, p.lat), (x, y))).name


def end_vertex(road: Road, end: End, which: str) -> Vertex:
    """The first or last vertex of a road: snapped to the outline or onto the road it joins."""
    x, y = to_xy(*end.near)
    if end.on is None:
        ring = OUTLINE_XY.exterior
        p = ring.interpolate(ring.project(Point(x, y)))
        lon, lat = to_ll(p.x, p.y)
        node = new_node(f"B.{road.code}.{which}", border_name(lon, lat), "border", lon, lat)
        node.roads.append(road.code)
        return Vertex(lon, lat, node)
    host = line_of(end.on)
    p = host.interpolate(host.project(Point(x, y)))
    if p.distance(Point(x, y)) > 3000:
        warn(f"{road.code}: {which} end is {p.distance(Point(x, y)):.0f} m from {end.on}")
    lon, lat = to_ll(p.x, p.y)
    node = new_node(f"J.{end.on}-{road.code}", "", "junction", lon, lat)
    insert_node(end.on, node)
    node.roads.append(road.code)
    return Vertex(lon, lat, node)


def build_alignment(road: Road) -> None:
    """Start, via points (places become town nodes), end."""
    verts = [end_vertex(road, road.start, "start")]
    for item in road.via:
        if isinstance(item, str):
            node = place_node(item)
            if road.code not in node.roads:
                node.roads.append(road.code)
            verts.append(Vertex(node.lon, node.lat, node))
        else:
            verts.append(Vertex(round(item[0], 6), round(item[1], 6)))
    ALIGN[road.code] = verts
    verts.append(end_vertex(road, road.end, "end"))


def crossings(a: str, b: str) -> list[tuple[float, float]]:
    """Points (metric) where two alignments cross."""
    inter = line_of(a).intersection(line_of(b))
    if inter.is_empty:
        return []
    pts: list[tuple[float, float]] = []
    for g in getattr(inter, "geoms", [inter]):
        if isinstance(g, Point):
            pts.append((g.x, g.y))
        # a shared stretch (two roads on one carriageway, 共线) ends at shared nodes: nothing to add
    return pts


def shared_node_near(a: str, b: str, xy: tuple[float, float], radius: float) -> bool:
    """Whether ``a`` and ``b`` already share a node within ``radius`` metres of ``xy``."""
    nodes_a = {v.node.id for v in ALIGN[a] if v.node}
    return any(
        v.node and v.node.id in nodes_a and math.dist(v.xy, xy) <= radius for v in ALIGN[b]
    )


def add_crossings(codes: list[str], prefix: str, node_type: str) -> None:
    """Create a shared node wherever two of ``codes`` cross (and do not already share one)."""
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            for k, (x, y) in enumerate(crossings(a, b)):
                if shared_node_near(a, b, (x, y), 500.0):
                    continue
                lon, lat = to_ll(x, y)
                suffix = f".{k + 1}" if k else ""
                node = new_node(f"{prefix}.{a}-{b}{suffix}", "", node_type, lon, lat)
                insert_node(a, node)
                insert_node(b, node)


def station_node(road: Road, st: Station, kind: str) -> Node:
    """Place a toll station or service area on the road nearest its anchor, shifted along the road."""
    line = line_of(road.code)
    anchor = PLACES[st.anchor] if isinstance(st.anchor, str) else None
    ax, ay = to_xy(anchor.lon, anchor.lat) if anchor else to_xy(*st.anchor)  # type: ignore[misc]
    d0 = line.project(Point(ax, ay))
    off = line.interpolate(d0).distance(Point(ax, ay))
    if off > 16_000:
        warn(f"{road.code} {st.name}: anchor is {off / 1000:.1f} km from the road")
    d = min(max(d0 + st.shift_km * 1000.0, 500.0), line.length - 500.0)
    lon, lat = point_at(road.code, d)
    if kind == "toll":
        node = new_node(f"{road.code}.{st.slug}", f"{st.name}收费站", "toll_station", lon, lat)
    else:
        node = new_node(f"{road.code}.{st.slug}-sa", st.name, "service_area", lon, lat)
    insert_node(road.code, node)
    STATIONS[(road.code, kind, st.slug)] = node
    return node


def auto_link(road: Road) -> None:
    """Let a national road pass every expressway toll station within LINK_RADIUS_M of its line."""
    line = line_of(road.code)
    own = {v.node.id for v in ALIGN[road.code] if v.node}
    for (_, kind, _), node in sorted(STATIONS.items()):
        if kind == "toll" and node.id not in own and line.distance(Point(node.xy)) <= LINK_RADIUS_M:
            insert_node(road.code, node, tolerance_m=50.0)


def name_junctions() -> None:
    """Junctions are named after the nearest place: 漯河枢纽; duplicates get a compass suffix."""
    juncs = [n for n in NODES.values() if n.node_type in ("junction", "crossing") and not n.name]
    names: dict[str, list[Node]] = {}
    for n in juncs:
        names.setdefault(nearest_place(n.lon, n.lat), []).append(n)
    for place, nodes in names.items():
        p = PLACES[place]
        for n in nodes:
            word = "枢纽" if n.node_type == "junction" else "路口"
            dx, dy = n.lon - p.lon, n.lat - p.lat
            compass = ("东" if dx > 0 else "西") if abs(dx) > abs(dy) else ("北" if dy > 0 else "南")
            n.name = f"{place}{word}" if len(nodes) == 1 else f"{place}{compass}{word}"
        if len({n.name for n in nodes}) < len(nodes):
            for k, n in enumerate(nodes):
                n.name = f"{n.name}{k + 1}"


# --------------------------------------------------------------------------- sections
@dataclass
class Section:
    """A built road section (properties as written to road_network.geojson)."""

    id: str
    road: Road
    from_node: Node
    to_node: Node
    start_m: float
    end_m: float
    coords: list[LonLat]
    speed: float
    lanes: int | None


SECTIONS: dict[str, list[Section]] = {}


def split_long(road: str) -> None:
    """Insert split nodes so that no section is longer than MAX_SECTION_M."""
    code = ROADS[road]
    dist = cumulative(road)
    verts = ALIGN[road]
    node_idx = [i for i, v in enumerate(verts) if v.node]
    for a, b in reversed(list(zip(node_idx, node_idx[1:], strict=False))):
        length = dist[b] - dist[a]
        if length <= MAX_SECTION_M:
            continue
        parts = math.ceil(length / (MAX_SECTION_M * 0.85))
        for k in range(parts - 1, 0, -1):
            d = dist[a] + length * k / parts
            lon, lat = point_at(road, d)
            km = int(round((code.start_km * 1000 + d) / 1000))
            node = new_node(f"S.{road}.{km:04d}", f"{road} K{km}", "split", lon, lat)
            insert_node(road, node)


def build_sections(road: Road) -> None:
    """Cut the alignment at every node; stakes from the metric length along it."""
    dist = cumulative(road.code)
    verts = ALIGN[road.code]
    base = road.start_km * 1000.0
    out: list[Section] = []
    start_i = 0
    for i in range(1, len(verts)):
        if verts[i].node is None:
            continue
        a, b = verts[start_i], verts[i]
        assert a.node and b.node
        coords = [(v.lon, v.lat) for v in verts[start_i:i + 1]]
        s, e = round(base + dist[start_i], 1), round(base + dist[i], 1)
        if e - s < 300:
            warn(f"{road.code}: section {a.node.name}→{b.node.name} is only {e - s:.0f} m")
        mid = LineString(coords).interpolate(0.5, normalized=True)
        speed, lanes = road.speed_kmh, road.lanes
        for w, so, ea, no, sp, ln in road.overrides:
            if w <= mid.x <= ea and so <= mid.y <= no:
                speed, lanes = sp, ln if ln is not None else lanes
        out.append(Section(f"{road.code}-{len(out) + 1:03d}", road, a.node, b.node, s, e, coords, speed, lanes))
        a.node.stakes[road.code] = s
        b.node.stakes[road.code] = e
        start_i = i
    SECTIONS[road.code] = out


# --------------------------------------------------------------------------- admin areas
def prefecture_polygons() -> dict[str, BaseGeometry]:
    """Approximate prefecture outlines: Voronoi cells of county seats, merged and clipped (metric)."""
    seeds = [p for p in PLACES.values() if p.seed]
    pts = MultiPoint([to_xy(p.lon, p.lat) for p in seeds])
    cells = shapely.voronoi_polygons(pts, extend_to=OUTLINE_XY.buffer(100_000), ordered=True)
    by_code: dict[str, list[BaseGeometry]] = {}
    for place, cell in zip(seeds, cells.geoms, strict=True):
        by_code.setdefault(place.prefecture, []).append(cell)
    return {
        code: shapely.union_all(parts).intersection(OUTLINE_XY) for code, parts in sorted(by_code.items())
    }


PREF_XY: dict[str, BaseGeometry] = {}


def admin_code_of(lon: float, lat: float) -> str | None:
    """The prefecture code of a point (by the approximate outlines)."""
    p = Point(to_xy(lon, lat))
    for code, poly in PREF_XY.items():
        if poly.covers(p):
            return code
    best = min(PREF_XY.items(), key=lambda kv: kv[1].distance(p))
    return best[0] if best[1].distance(p) < 20_000 else None


def ll_polygon(geom: BaseGeometry) -> BaseGeometry:
    """Metric polygon → lon/lat with coordinates on a 1e-6° grid, still valid."""
    out = shapely.set_precision(geom_ll(geom), 1e-6)
    if not out.is_valid:
        out = shapely.make_valid(out)
    return out


# --------------------------------------------------------------------------- output
def feature(fid: str, geom: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature with properties stripped of None values."""
    return {"type": "Feature", "id": fid, "geometry": geom,
            "properties": {k: v for k, v in props.items() if v is not None}}


def point(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON Point."""
    return {"type": "Point", "coordinates": [lon, lat]}


def linestring(coords: Iterable[LonLat]) -> dict[str, Any]:
    """A GeoJSON LineString."""
    return {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in coords]}


def geom_dict(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry dict with coordinates rounded to 1e-6°."""
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"])}


def _round_coords(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(c, float) for c in value):
            return [round(c, 6) for c in value]
        return [_round_coords(c) for c in value]
    return value


def write_geojson(name: str, kind: str | None, title: str, features: list[dict[str, Any]],
                  **meta: Any) -> None:
    """One FeatureCollection, metadata first, one feature per line (streamable, diffable)."""
    metadata = {"kind": kind, "title": title, "updated_at": UPDATED_AT, "version": 1,
                "crs": "WGS84 lon/lat (EPSG:4326), not GCJ-02", "approximate": True,
                "source": SOURCE_NOTE, "generator": "geodata/tools/build_bundle.py", **meta}
    if kind is None:
        del metadata["kind"]
    lines = ['{"type":"FeatureCollection",',
             f'"metadata":{json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))},',
             '"features":[']
    for i, f in enumerate(features):
        sep = "," if i < len(features) - 1 else ""
        lines.append(json.dumps(f, ensure_ascii=False, separators=(",", ":")) + sep)
    lines.append("]}")
    (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def poi_features() -> list[dict[str, Any]]:
    """Toll stations, service areas, interchanges, gas stations and bus stations."""
    feats: list[dict[str, Any]] = []
    for road in EXPRESSWAYS:
        for st in road.tolls:
            n = STATIONS[(road.code, "toll", st.slug)]
            feats.append(feature(f"toll-{road.code}-{st.slug}", point(n.lon, n.lat), {
                "poi_kind": "toll_station", "name": f"{st.name}收费站", "road": road.code,
                "stake_m": n.stakes[road.code], "direction": "both", "admin_code": admin_code_of(n.lon, n.lat),
                "open_status": "open", "x_node": n.id}))
        for k, st in enumerate(road.services):
            n = STATIONS[(road.code, "service", st.slug)]
            feats.append(feature(f"sa-{road.code}-{st.slug}", point(n.lon, n.lat), {
                "poi_kind": "service_area", "name": st.name, "road": road.code,
                "stake_m": n.stakes[road.code], "direction": "both", "admin_code": admin_code_of(n.lon, n.lat),
                "facilities": service_facilities(road.code, k), "open_status": "open", "x_node": n.id}))
    for n in sorted((n for n in NODES.values() if n.node_type == "junction"), key=lambda n: n.id):
        road = sorted(n.roads, key=_road_order)[0]
        feats.append(feature(f"ic-{n.id[2:]}", point(n.lon, n.lat), {
            "poi_kind": "interchange", "name": n.name, "road": road, "stake_m": n.stakes[road],
            "direction": "both", "admin_code": admin_code_of(n.lon, n.lat), "open_status": "open",
            "roads": sorted(n.roads, key=_road_order), "x_node": n.id}))
    for k, (code, place, shift, brand) in enumerate(GAS_STATIONS):
        line = line_of(code)
        p = PLACES[place]
        d = line.project(Point(to_xy(p.lon, p.lat))) + shift * 1000.0
        lon, lat = point_at(code, d)
        stake = round(ROADS[code].start_km * 1000.0 + d, 1)
        fuel = ["92#", "95#", "0#柴油"] + (["98#"] if brand == "中国石化" else [])
        feats.append(feature(f"gas-{code}-{p.slug}", point(lon, lat), {
            "poi_kind": "gas_station", "name": f"{brand}{place}加油站", "road": code, "stake_m": stake,
            "direction": "both", "admin_code": admin_code_of(lon, lat), "open_status": "open",
            "facilities": {"fuel": fuel, "ev_charging": k % 3 == 0, "food": False, "lodging": False,
                           "repair": k % 4 == 1, "toilets": True, "parking": True, "shop": True}}))
    for code, name, lon, lat in BUS_STATIONS:
        feats.append(feature(f"bus-{code}", point(lon, lat), {
            "poi_kind": "bus_station", "name": name, "admin_code": code, "open_status": "open"}))
    return feats


def _road_order(code: str) -> tuple[int, int]:
    """Order roads as their codes read: G4 < G30 < G0421 < G1511 (national numbering order)."""
    digits = code[1:]
    return (len(digits.lstrip("0")) if len(digits) <= 2 else 3, int(digits))


def service_facilities(road: str, k: int) -> dict[str, Any]:
    """Plausible facilities of a service area (every one sells fuel, food and has toilets)."""
    fuel = ["92#", "95#", "0#柴油"]
    if k % 3 == 0:
        fuel.insert(2, "98#")
    if road in ("G4", "G30", "G45") and k % 2 == 0:
        fuel.append("LNG")
    return {"fuel": fuel, "ev_charging": not (road == "G59" and k == 1), "food": True,
            "lodging": k % 3 == 0, "repair": k % 4 != 3, "toilets": True, "parking": True, "shop": True}


def toll_section_features() -> list[dict[str, Any]]:
    """Charging sections: the expressway between consecutive access points (toll station, junction, border)."""
    feats = []
    access = {"toll_station", "junction", "border"}
    for road in EXPRESSWAYS:
        group: list[Section] = []
        n = 0
        for sec in SECTIONS[road.code]:
            group.append(sec)
            if sec.to_node.node_type not in access:
                continue
            n += 1
            coords: list[LonLat] = []
            for g in group:
                coords.extend(g.coords if not coords else g.coords[1:])
            length = round(group[-1].end_m - group[0].start_m, 1)
            section_id = f"tsec-{road.code}-{n:03d}"
            special = tariff.special_of(section_id)
            name = f"{_short(group[0].from_node)}—{_short(group[-1].to_node)}"
            feats.append(feature(section_id, linestring(coords), {
                "road": road.code, "name": f"{name}（{special[1]}）" if special else name,
                "road_sections": [g.id for g in group], "length_m": length,
                "special": special[0] if special else None, "x_lanes": group[0].lanes,
                "x_start_stake_m": group[0].start_m, "x_end_stake_m": group[-1].end_m}))
            group = []
        if group:
            warn(f"{road.code}: sections after the last access point are in no toll section")
    return feats


def _short(node: Node) -> str:
    """A node's name without the 收费站 suffix (toll sections read 许昌北—许昌)."""
    return node.name.removesuffix("收费站")


def main(argv: list[str] | None = None) -> int:
    """Build every file of the bundle (into ``--out DIR`` if given, else the package directory)."""
    global OUT
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--out"] and len(args) == 2:
        OUT = Path(args[1])
        OUT.mkdir(parents=True, exist_ok=True)
    elif args:
        raise SystemExit("usage: python -m geodata.tools.build_bundle [--out DIR]")
    for p in PLACES.values():
        if not OUTLINE_XY.contains(Point(to_xy(p.lon, p.lat))):
            warn(f"place {p.name} lies outside the outline")
    for name, (lon, lat) in OUTSIDE.items():
        if OUTLINE_XY.contains(Point(to_xy(lon, lat))):
            warn(f"{name} (not Henan) lies inside the outline")
    PREF_XY.update(prefecture_polygons())

    for road in EXPRESSWAYS:
        build_alignment(road)
    add_crossings([r.code for r in EXPRESSWAYS], "J", "junction")
    for road in EXPRESSWAYS:
        for st in road.tolls:
            station_node(road, st, "toll")
        for st in road.services:
            station_node(road, st, "service")
    for road in TRUNKS:
        build_alignment(road)
        for expressway, slug in road.links:
            insert_node(road.code, STATIONS[(expressway, "toll", slug)], tolerance_m=50.0)
        auto_link(road)
    add_crossings([r.code for r in TRUNKS], "X", "crossing")
    name_junctions()
    for code in ROADS:
        split_long(code)
    for road in ROADS.values():
        build_sections(road)
    check_gaps()

    sections = [s for road in ROADS.values() for s in SECTIONS[road.code]]
    write_geojson("road_network.geojson", "road_section", "河南省公路网（高速公路与普通国道）路段", [
        feature(s.id, linestring(s.coords), {
            "road": s.road.code, "road_name": s.road.name, "road_class": s.road.road_class,
            "from_node": s.from_node.id, "to_node": s.to_node.id, "start_stake_m": s.start_m,
            "end_stake_m": s.end_m, "oneway": False, "speed_kmh": s.speed, "lanes": s.lanes,
            "toll": s.road.road_class == "expressway", "x_from_name": s.from_node.name,
            "x_to_name": s.to_node.name})
        for s in sections])
    write_geojson("nodes.geojson", None, "路网节点（收费站、枢纽、服务区、城镇、省界）", [
        feature(n.id, point(n.lon, n.lat), {
            "name": n.name, "node_type": n.node_type, "roads": sorted(n.roads, key=_road_order),
            "stakes": dict(sorted(n.stakes.items())), "admin_code": admin_code_of(n.lon, n.lat)})
        for n in sorted(NODES.values(), key=lambda n: n.id)], role="auxiliary")
    write_geojson("pois.geojson", "poi", "收费站、服务区、互通立交、加油站、汽车客运站", poi_features())
    toll_sections = toll_section_features()
    write_geojson("toll_sections.geojson", "toll_section", "高速公路收费（门架）区间", toll_sections)
    tariff.write_tariff(OUT, write_geojson, feature,
                        [(f["id"], f["properties"]["x_lanes"]) for f in toll_sections])
    write_admin()
    write_geojson("waterways.geojson", "waterway", "河南省主要航道", [
        feature(slug, linestring(coords), {"name": name, "river": river, "grade": grade,
                                           "navigable": navigable, "status_note": note})
        for slug, name, river, grade, navigable, note, coords in WATERWAYS])
    write_gauges()
    write_manifest()

    for w in WARNINGS:
        print("WARNING:", w, file=sys.stderr)
    counts: dict[str, int] = {}
    for s in sections:
        counts[s.road.code] = counts.get(s.road.code, 0) + 1
    print(f"{len(sections)} sections, {len(NODES)} nodes; per road: {counts}")
    return 1 if WARNINGS else 0


def check_gaps() -> None:
    """Stations and nodes must not crowd each other on a road."""
    for code in ROADS:
        named = [v.node for v in ALIGN[code] if v.node and v.node.node_type in ("toll_station", "service_area")]
        for a, b in zip(named, named[1:], strict=False):
            gap = abs(b.stakes[code] - a.stakes[code])
            if gap < MIN_GAP_M:
                warn(f"{code}: {a.name} and {b.name} are only {gap:.0f} m apart")


def write_admin() -> None:
    """Province and prefectures, approximate polygons."""
    feats = [feature(PROVINCE[0], geom_dict(ll_polygon(OUTLINE_XY)), {
        "code": PROVINCE[0], "name": PROVINCE[1], "short_name": PROVINCE[2], "level": "province",
        "approximate": True})]
    for code, name, short in PREFECTURES:
        geom = ll_polygon(PREF_XY[code])
        centre = PLACES[short]
        if not geom.covers(Point(centre.lon, centre.lat)):
            warn(f"{name} polygon misses its centre")
        feats.append(feature(code, geom_dict(geom), {
            "code": code, "name": name, "short_name": short, "level": "prefecture",
            "parent_code": PROVINCE[0], "approximate": True, "x_centre": [centre.lon, centre.lat],
            "x_area_km2": round(PREF_XY[code].area / 1e6)}))
    write_geojson("admin_areas.geojson", "admin_area", "河南省及18个地级行政区（近似边界）", feats,
                  note="polygons are Voronoi cells of county seats merged per prefecture, clipped to an "
                       "approximate provincial outline; 济源 (419001) is a province-administered "
                       "county-level city listed with the prefectures")


def write_gauges() -> None:
    """gauges.csv: one row per gauge, lon/lat columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "name", "river", "station_code", "admin_code", "lon", "lat", "datum",
                "warning_level_m", "guaranteed_level_m"])
    for slug, name, river, lon, lat, warning, guaranteed, code in GAUGES:
        w.writerow([slug, f"{name}站", river, code or "", admin_code_of(lon, lat) or "", lon, lat,
                    "85国家高程基准", f"{warning:.2f}" if warning is not None else "",
                    f"{guaranteed:.2f}" if guaranteed is not None else ""])
    (OUT / "gauges.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_manifest() -> None:
    """bundle.json: which file holds which kind, and the bundle's date."""
    manifest = {
        "name": "henan-reference",
        "title": "河南省交通出行参考数据（近似，手工编制）",
        "format": "travel-geodata/1",
        "updated_at": UPDATED_AT,
        "source": "geodata",
        "approximate": True,
        "files": [
            {"path": "admin_areas.geojson", "kind": "admin_area"},
            {"path": "road_network.geojson", "kind": "road_section"},
            {"path": "pois.geojson", "kind": "poi"},
            {"path": "toll_sections.geojson", "kind": "toll_section"},
            {"path": "waterways.geojson", "kind": "waterway"},
            {"path": "gauges.csv", "kind": "gauge", "updated_at": UPDATED_AT},
            {"path": "toll_rules.geojson", "kind": "toll_rules"},
            {"path": "toll_rates.csv", "kind": "toll_rate", "updated_at": UPDATED_AT},
            {"path": "toll_notices.geojson", "kind": "toll_notice"},
            {"path": "nodes.geojson", "kind": None, "role": "auxiliary: road-graph nodes with names"},
        ],
    }
    (OUT / "bundle.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
