"""The bundled Henan reference data: it loads, meets its minimums, hangs together; the loader's errors."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections import defaultdict, deque
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry

import geodata.loader as loader
from geodata import BUNDLE_DIR
from geodata.loader import read_bundle, read_csv, read_geojson, read_nodes
from travel.core.errors import InvalidRecord
from travel.core.records import (
    AdminArea,
    Gauge,
    Kind,
    Poi,
    PoiKind,
    RoadSection,
    TollNotice,
    TollRate,
    TollRules,
    TollSection,
    WaterwaySection,
)
from travel.core.spatial import distance_m

PREFECTURES = {
    "410100": "郑州市", "410200": "开封市", "410300": "洛阳市", "410400": "平顶山市", "410500": "安阳市",
    "410600": "鹤壁市", "410700": "新乡市", "410800": "焦作市", "410900": "濮阳市", "411000": "许昌市",
    "411100": "漯河市", "411200": "三门峡市", "411300": "南阳市", "411400": "商丘市", "411500": "信阳市",
    "411600": "周口市", "411700": "驻马店市", "419001": "济源市",
}
EXPRESSWAYS = {"G4": "京港澳", "G30": "连霍", "G45": "大广", "G55": "二广", "G36": "宁洛", "G40": "沪陕",
               "G35": "济广", "G59": "呼北", "G0421": "许广", "G1511": "日兰", "G5512": "晋新"}
TRUNKS = {"G107", "G310", "G207", "G311"}
GEOD = Geod(ellps="WGS84")
_LOCAL = Transformer.from_crs("EPSG:4326", "+proj=tmerc +lat_0=34 +lon_0=113.5 +ellps=WGS84 +units=m",
                              always_xy=True)


@pytest.fixture(scope="module")
def bundle() -> dict[Kind, list]:
    return read_bundle()


@pytest.fixture(scope="module")
def sections(bundle: dict[Kind, list]) -> list[RoadSection]:
    return bundle[Kind.ROAD_SECTION]


@pytest.fixture(scope="module")
def pois(bundle: dict[Kind, list]) -> list[Poi]:
    return bundle[Kind.POI]


@pytest.fixture(scope="module")
def by_road(sections: list[RoadSection]) -> dict[str, list[RoadSection]]:
    out: dict[str, list[RoadSection]] = defaultdict(list)
    for s in sections:
        out[s.road].append(s)
    return {road: sorted(secs, key=lambda s: s.start_stake_m) for road, secs in out.items()}


def metric(geom: BaseGeometry) -> BaseGeometry:
    """The geometry in local metres (transverse Mercator centred on Henan)."""
    return shapely.transform(geom, lambda a: np.column_stack(_LOCAL.transform(a[:, 0], a[:, 1])))


def geodesic_length(coords: list) -> float:
    return GEOD.line_length([c[0] for c in coords], [c[1] for c in coords])


def components(edges: list[tuple[str, str]]) -> list[set[str]]:
    adj: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen: set[str] = set()
    comps = []
    for start in adj:
        if start in seen:
            continue
        comp, queue = {start}, deque([start])
        while queue:
            for nxt in adj[queue.popleft()] - comp:
                comp.add(nxt)
                queue.append(nxt)
        seen |= comp
        comps.append(comp)
    return comps


# --------------------------------------------------------------------------- loading
def test_every_file_loads_with_its_model(bundle: dict[Kind, list]) -> None:
    types = {Kind.ADMIN_AREA: AdminArea, Kind.ROAD_SECTION: RoadSection, Kind.POI: Poi,
             Kind.TOLL_SECTION: TollSection, Kind.WATERWAY: WaterwaySection, Kind.GAUGE: Gauge,
             Kind.TOLL_RULES: TollRules, Kind.TOLL_RATE: TollRate, Kind.TOLL_NOTICE: TollNotice}
    assert set(bundle) == set(types)
    for kind, cls in types.items():
        assert bundle[kind], kind
        for r in bundle[kind]:
            assert isinstance(r, cls)
            assert r.source == "geodata" and r.id == f"geodata:{r.source_id}" and r.version == 1
            assert r.updated_at.isoformat() == "2026-11-24T00:00:00+08:00"


def test_per_file_readers_match_the_bundle(bundle: dict[Kind, list]) -> None:
    assert list(read_geojson(BUNDLE_DIR / "pois.geojson", "poi")) == bundle[Kind.POI]
    gauges = list(read_csv(BUNDLE_DIR / "gauges.csv", Kind.GAUGE, updated_at="2026-11-24T00:00:00+08:00"))
    assert gauges == bundle[Kind.GAUGE]


def test_ids_are_unique(bundle: dict[Kind, list]) -> None:
    for kind, records in bundle.items():
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids)), kind


def test_files_are_small_and_listed_in_the_manifest() -> None:
    manifest = json.loads((BUNDLE_DIR / "bundle.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.name for p in BUNDLE_DIR.iterdir() if p.suffix in (".geojson", ".csv")}
    assert listed == on_disk
    assert sum((BUNDLE_DIR / p).stat().st_size for p in listed) < 5_000_000


def test_generator_reproduces_the_bundle(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "geodata.tools.build_bundle", "--out", str(tmp_path)],
                   check=True, capture_output=True, cwd=BUNDLE_DIR.parent)
    for built in sorted(tmp_path.iterdir()):
        assert built.read_bytes() == (BUNDLE_DIR / built.name).read_bytes(), built.name


# --------------------------------------------------------------------------- admin areas
def test_province_and_the_18_prefectures(bundle: dict[Kind, list]) -> None:
    areas = {a.code: a for a in bundle[Kind.ADMIN_AREA]}
    assert areas["410000"].name == "河南省" and areas["410000"].level == "province"
    prefectures = {c: a for c, a in areas.items() if a.level == "prefecture"}
    assert {c: a.name for c, a in prefectures.items()} == PREFECTURES
    for a in prefectures.values():
        assert a.parent_code == "410000" and a.approximate
        assert a.short_name == a.name.removesuffix("市")
    province = areas["410000"].geometry.shape
    area_km2 = metric(province).area / 1e6
    assert 150_000 < area_km2 < 185_000  # Henan: about 167,000 km²
    total = sum(metric(a.geometry.shape).area for a in prefectures.values()) / 1e6
    assert total == pytest.approx(area_km2, rel=0.01)


def test_bus_stations_lie_in_their_prefecture(bundle: dict[Kind, list], pois: list[Poi]) -> None:
    areas = {a.code: a.geometry.shape for a in bundle[Kind.ADMIN_AREA]}
    buses = [p for p in pois if p.poi_kind is PoiKind.BUS_STATION]
    assert sorted(p.admin_code for p in buses) == sorted(PREFECTURES)
    for p in buses:
        assert areas[p.admin_code].covers(p.geometry.shape), p.name
    assert any(p.name == "郑州长途汽车中心站" for p in buses)


# --------------------------------------------------------------------------- roads
def test_every_required_road_exists(by_road: dict[str, list[RoadSection]]) -> None:
    for code, name in EXPRESSWAYS.items():
        secs = by_road[code]
        assert all(s.road_name.startswith(name) and s.road_class == "expressway" and s.toll for s in secs)
        assert all(s.speed_kmh in (100, 120) for s in secs)
    for code in TRUNKS:
        assert by_road[code] and all(s.road_class == "national" and not s.toll for s in by_road[code])


def test_network_size_and_section_lengths(sections: list[RoadSection]) -> None:
    assert len(sections) >= 300
    for s in sections:
        assert not s.oneway
        geo = geodesic_length(s.geometry.coordinates)
        assert 300 < geo < 31_000, s.id
        assert s.end_stake_m - s.start_stake_m == pytest.approx(geo, rel=0.005, abs=20), s.id


def test_stakes_increase_along_each_road(by_road: dict[str, list[RoadSection]]) -> None:
    for road, secs in by_road.items():
        for s in secs:
            assert s.end_stake_m > s.start_stake_m, s.id
        for prev, nxt in zip(secs, secs[1:], strict=False):
            assert nxt.start_stake_m == prev.end_stake_m, (road, prev.id, nxt.id)
            assert nxt.from_node == prev.to_node, (road, prev.id, nxt.id)
            assert nxt.geometry.coordinates[0] == prev.geometry.coordinates[-1]


def test_g4_stakes_run_north_to_south_through_henan(by_road: dict[str, list[RoadSection]]) -> None:
    g4 = by_road["G4"]
    assert 480_000 < g4[0].start_stake_m < 530_000 and 980_000 < g4[-1].end_stake_m < 1_050_000
    assert g4[0].geometry.coordinates[0][1] > 36 > 32 > g4[-1].geometry.coordinates[-1][1]


def test_expressway_graph_is_one_component(sections: list[RoadSection]) -> None:
    edges = [(s.from_node, s.to_node) for s in sections if s.road_class == "expressway"]
    comps = components(edges)
    assert len(comps) == 1, [sorted(c)[:3] for c in comps]
    assert len(components([(s.from_node, s.to_node) for s in sections])) == 1


def test_shared_nodes_sit_at_the_same_point(sections: list[RoadSection]) -> None:
    where: dict[str, tuple[float, float]] = {}
    for s in sections:
        for node, pos in ((s.from_node, s.geometry.coordinates[0]), (s.to_node, s.geometry.coordinates[-1])):
            assert where.setdefault(node, tuple(pos)) == tuple(pos), node


def test_every_city_is_reached(sections: list[RoadSection], pois: list[Poi]) -> None:
    shapes = [s.geometry.shape for s in sections]
    for p in pois:
        if p.poi_kind is PoiKind.BUS_STATION:
            lon, lat = p.geometry.coordinates
            assert min(distance_m(g, lon, lat) for g in shapes) < 30_000, p.name


# --------------------------------------------------------------------------- POIs
def test_poi_minimums(pois: list[Poi]) -> None:
    kinds = defaultdict(list)
    for p in pois:
        kinds[p.poi_kind].append(p)
    assert len(kinds[PoiKind.TOLL_STATION]) >= 80
    assert len(kinds[PoiKind.SERVICE_AREA]) >= 40
    assert len(kinds[PoiKind.GAS_STATION]) >= 20
    assert len(kinds[PoiKind.BUS_STATION]) == 18
    for sa in kinds[PoiKind.SERVICE_AREA]:
        assert sa.name.endswith("服务区") and sa.facilities and "92#" in sa.facilities.fuel
        assert sa.open_status == "open"
    names = {p.name for p in kinds[PoiKind.SERVICE_AREA]}
    assert {"长葛服务区", "郑州东服务区"} <= names
    assert {"郑州收费站", "许昌北收费站", "漯河东收费站"} <= {p.name for p in kinds[PoiKind.TOLL_STATION]}
    for p in pois:
        assert p.admin_code in PREFECTURES, p.name


def test_pois_lie_on_their_road_at_their_stake(by_road: dict[str, list[RoadSection]], pois: list[Poi]) -> None:
    on_road = [p for p in pois if p.road is not None]
    assert len(on_road) > 150
    for p in on_road:
        assert p.stake_m is not None, p.id
        secs = by_road[p.road]
        lon, lat = p.geometry.coordinates
        assert min(distance_m(s.geometry.shape, lon, lat) for s in secs) < 500, p.id
        sec = next(s for s in secs if s.start_stake_m <= p.stake_m <= s.end_stake_m)
        line = metric(sec.geometry.shape)
        frac = (p.stake_m - sec.start_stake_m) / (sec.end_stake_m - sec.start_stake_m)
        at_stake = line.interpolate(frac, normalized=True)
        assert at_stake.distance(metric(Point(lon, lat))) < 500, p.id


def test_every_expressway_junction_is_an_interchange(sections: list[RoadSection], pois: list[Poi]) -> None:
    roads_at: dict[str, set[str]] = defaultdict(set)
    for s in sections:
        if s.road_class == "expressway":
            roads_at[s.from_node].add(s.road)
            roads_at[s.to_node].add(s.road)
    junctions = {n: roads for n, roads in roads_at.items() if len(roads) > 1}
    assert len(junctions) >= 15
    interchanges = [p for p in pois if p.poi_kind is PoiKind.INTERCHANGE]
    by_point = {tuple(p.geometry.coordinates): p for p in interchanges}
    ends = {}
    for s in sections:
        ends[s.from_node], ends[s.to_node] = tuple(s.geometry.coordinates[0]), tuple(s.geometry.coordinates[-1])
    for node, roads in junctions.items():
        ic = by_point[ends[node]]
        assert set(ic.roads) == roads and ic.road in roads, node


# --------------------------------------------------------------------------- tolls, water
def test_toll_sections_cover_contiguous_road_sections(bundle: dict[Kind, list], sections: list[RoadSection]) -> None:
    secs = {s.id: s for s in sections}
    tolls = bundle[Kind.TOLL_SECTION]
    assert len(tolls) >= 80
    covered = set()
    for t in tolls:
        parts = [secs[i] for i in t.road_sections]
        assert all(p.road == t.road for p in parts)
        assert t.length_m == pytest.approx(parts[-1].end_stake_m - parts[0].start_stake_m, abs=0.2)
        assert "—" in t.name
        covered.update(t.road_sections)
    assert covered == {s.id for s in sections if s.toll}


def test_waterways_and_gauges(bundle: dict[Kind, list]) -> None:
    ways = bundle[Kind.WATERWAY]
    assert {"沙颍河", "淮河", "唐河", "白河"} <= {w.river for w in ways}
    gauges = {g.name: g for g in bundle[Kind.GAUGE]}
    for name in ("周口站", "漯河站", "淮滨站", "息县站", "郭滩站", "新店铺站"):
        g = gauges[name]
        assert g.warning_level_m is not None and g.guaranteed_level_m is not None
        assert g.warning_level_m < g.guaranteed_level_m
        name_of_way = {"沙河": "沙颍河"}.get(g.river, g.river)  # the 沙河 is the upper 沙颍河
        river = [w.geometry.shape for w in ways if w.river == name_of_way]
        lon, lat = g.geometry.coordinates
        assert river and min(distance_m(r, lon, lat) for r in river) < 5_000, name


# --------------------------------------------------------------------------- demo questions
def test_demo_zhengzhou_to_luoyang_on_g30(by_road: dict[str, list[RoadSection]], pois: list[Poi]) -> None:
    stations = {p.name: p for p in pois if p.road == "G30" and p.poi_kind is PoiKind.TOLL_STATION}
    a, b = stations["郑州北收费站"], stations["洛阳收费站"]
    assert 100_000 < abs(b.stake_m - a.stake_m) < 160_000
    nodes = read_nodes()
    g30 = {n.name for n in nodes if "G30" in n.roads}
    assert {"郑州北收费站", "洛阳收费站", "巩义收费站"} <= g30


def test_demo_xuchang_on_g4(pois: list[Poi]) -> None:
    xuchang = next(p for p in pois if p.name == "许昌收费站")
    assert xuchang.road == "G4" and xuchang.admin_code == "411000"
    assert 720_000 < xuchang.stake_m < 800_000  # Beijing–许昌 is about 760 km
    lon, lat = xuchang.geometry.coordinates
    assert math.dist((lon, lat), (113.852, 34.036)) < 0.15


def test_demo_zhoukou_gauge(bundle: dict[Kind, list]) -> None:
    zk = next(g for g in bundle[Kind.GAUGE] if g.name == "周口站")
    assert zk.river == "沙颍河" and zk.admin_code == "411600" and zk.datum


def test_read_nodes_names_every_section_end(sections: list[RoadSection]) -> None:
    nodes = {n.id: n for n in read_nodes()}
    for s in sections:
        assert s.from_node in nodes and s.to_node in nodes
        assert s.road in nodes[s.from_node].roads
    assert nodes["J.G4-G30"].node_type == "junction"


# --------------------------------------------------------------------------- loader errors
def write_fc(path: Path, features: list[dict], metadata: dict | None = None) -> Path:
    doc = {"type": "FeatureCollection", "metadata": metadata or {"kind": "poi", "updated_at":
                                                                     "2026-01-01T00:00:00+08:00"}}
    doc["features"] = features
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def poi_feature(fid: str, **props) -> dict:
    base = {"poi_kind": "toll_station", "name": "许昌收费站", "road": "G4", "stake_m": 690000.0}
    base.update(props)
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [113.8, 34.0]},
            "properties": base}


def test_missing_geometry_names_the_feature(tmp_path: Path) -> None:
    bad = poi_feature("c")
    bad["geometry"] = None
    path = write_fc(tmp_path / "p.geojson", [poi_feature("a"), poi_feature("b"), bad])
    with pytest.raises(InvalidRecord) as err:
        list(read_geojson(path, Kind.POI))
    assert "p.geojson" in err.value.detail and "feature 3" in err.value.detail
    assert err.value.param == "geometry"


def test_duplicate_id_names_the_feature(tmp_path: Path) -> None:
    path = write_fc(tmp_path / "p.geojson", [poi_feature("a"), poi_feature("a")])
    with pytest.raises(InvalidRecord, match=r"feature 2 .*duplicate id .*feature 1") as err:
        list(read_geojson(path, Kind.POI))
    assert err.value.param == "id"


@pytest.mark.parametrize(("props", "param"), [
    ({"stake_m": -5}, "stake_m"),
    ({"poi_kind": "castle"}, "poi_kind"),
    ({"colour": "red"}, "colour"),
    ({"id": "x"}, "id"),
])
def test_bad_field_names_the_field(tmp_path: Path, props: dict, param: str) -> None:
    path = write_fc(tmp_path / "p.geojson", [poi_feature("a"), poi_feature("b", **props)])
    with pytest.raises(InvalidRecord, match="feature 2") as err:
        list(read_geojson(path, Kind.POI))
    assert err.value.param == param


def test_annotations_are_ignored_and_features_may_precede_metadata(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [poi_feature("a", x_note="hand-placed")],
           "metadata": {"kind": "poi", "updated_at": "2026-01-01T00:00:00Z", "version": 3}}
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    [rec] = list(read_geojson(path, "poi", source="hngs"))
    assert rec.id == "hngs:a" and rec.version == 3 and rec.updated_at.year == 2026


def test_wrong_kind_and_malformed_json(tmp_path: Path) -> None:
    path = write_fc(tmp_path / "p.geojson", [poi_feature("a")])
    with pytest.raises(InvalidRecord, match="holds 'poi' records"):
        list(read_geojson(path, Kind.GAUGE))
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 20], encoding="utf-8")
    with pytest.raises(InvalidRecord, match="feature 1"):
        list(read_geojson(path, Kind.POI))
    no_date = write_fc(tmp_path / "q.geojson", [poi_feature("a")], metadata={"kind": "poi"})
    with pytest.raises(InvalidRecord, match="updated_at") as err:
        list(read_geojson(no_date, Kind.POI))
    assert err.value.param == "updated_at"


def test_streaming_reader_survives_tiny_chunks(monkeypatch: pytest.MonkeyPatch, bundle: dict[Kind, list]) -> None:
    monkeypatch.setattr(loader, "_CHUNK", 7)
    assert list(read_geojson(BUNDLE_DIR / "toll_sections.geojson", Kind.TOLL_SECTION)) == bundle[Kind.TOLL_SECTION]


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("id,name,river,lon,lat,warning_level_m\n"
                    "zk,周口站,沙颍河,114.66,33.62,46.5\n"
                    "lh,漯河站,沙河,114.03,33.58,high\n", encoding="utf-8")
    with pytest.raises(InvalidRecord, match="line 3") as err:
        list(read_csv(path, Kind.GAUGE, updated_at="2026-01-01T00:00:00Z"))
    assert err.value.param == "warning_level_m"
    path.write_text("id,name,river,lon,lat\nzk,周口站,沙颍河,,\n", encoding="utf-8")
    with pytest.raises(InvalidRecord, match="line 2") as err:
        list(read_csv(path, Kind.GAUGE, updated_at="2026-01-01T00:00:00Z"))
    assert err.value.param == "geometry"
    path.write_text("id,name,river,wkt\nzk,周口站,沙颍河,POINT (114.66 33.62)\nzk,周口站,沙颍河,POINT (1 2)\n",
                    encoding="utf-8")
    with pytest.raises(InvalidRecord, match="line 3.*duplicate"):
        list(read_csv(path, Kind.GAUGE, updated_at="2026-01-01T00:00:00Z"))


def test_bundle_checks_references_and_works_without_manifest(tmp_path: Path) -> None:
    for name in ("road_network.geojson", "toll_sections.geojson"):
        shutil.copy(BUNDLE_DIR / name, tmp_path / name)
    loaded = read_bundle(tmp_path)
    assert set(loaded) == {Kind.ROAD_SECTION, Kind.TOLL_SECTION}
    lines = (tmp_path / "road_network.geojson").read_text(encoding="utf-8").splitlines()
    first_feature = next(i for i, line in enumerate(lines) if line.startswith('{"type":"Feature"'))
    del lines[first_feature]
    (tmp_path / "road_network.geojson").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InvalidRecord, match="unknown road section") as err:
        read_bundle(tmp_path)
    assert err.value.param == "road_sections"


def test_geometry_shapes_are_consistent(sections: list[RoadSection]) -> None:
    # sanity: every section is a simple line in Henan's bounding box
    for s in sections:
        line = shape(s.geometry.model_dump())
        assert isinstance(line, LineString)
        minx, miny, maxx, maxy = line.bounds
        assert 110.3 < minx <= maxx < 116.7 and 31.3 < miny <= maxy < 36.4, s.id
