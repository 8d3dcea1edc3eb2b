"""Place resolution: the resolver over the bundled Henan data, and GET /v1/places over loopback."""

from __future__ import annotations

from collections import Counter

import pytest
from openapi_spec_validator import validate
from shapely.geometry import Point

from geodata.loader import read_bundle
from tests.conftest import seed
from tests.factories import T0, poi
from travel.core.crs import Crs, wgs84_to_gcj02
from travel.core.errors import InvalidParameter
from travel.core.geometry import Geometry
from travel.core.records import AdminArea, AdminLevel, Kind, Poi, PoiKind
from travel.read.places import PlaceKind, PlaceResolver, strip_suffix
from travel.read.readmodel import ReadModel

BUNDLE = read_bundle()
CITIES = [a for a in BUNDLE[Kind.ADMIN_AREA] if isinstance(a, AdminArea) and a.level is AdminLevel.PREFECTURE]
TOLL_STATIONS = [p for p in BUNDLE[Kind.POI] if isinstance(p, Poi) and p.poi_kind is PoiKind.TOLL_STATION]
XUCHANG = (113.85, 34.03)


def square(lon: float, lat: float, half: float = 0.05) -> Geometry:
    """A small square outline around (lon, lat)."""
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return Geometry(type="Polygon", coordinates=[ring])


def area(code: str, name: str, short: str, level: str, lon: float, lat: float, **kw: object) -> AdminArea:
    """An admin area with a small square outline."""
    return AdminArea(id=f"geodata:{code}", source="geodata", source_id=code, version=1, updated_at=T0, code=code,
                     name=name, short_name=short, level=level, geometry=square(lon, lat), **kw)


@pytest.fixture(scope="module")
def places() -> PlaceResolver:
    """The bundled data, plus a county (长葛市) and a toll station (许昌东收费站) the bundle lacks."""
    model = ReadModel()
    for records in BUNDLE.values():
        model.apply(records)
    model.apply([
        area("411082", "长葛市", "长葛", "county", 113.77, 34.22, parent_code="411000"),
        poi("toll-xuchangdong", 113.95, 34.04, kind="toll_station", name="许昌东收费站", admin_code="411000"),
    ])
    return PlaceResolver(model)


def names(places: PlaceResolver, q: str, **kw: object) -> list[tuple[str, str]]:
    """(kind, name) of each candidate for ``q``."""
    return [(c.kind.value, c.name) for c in places.resolve(q, **kw)]


def test_bundle_has_the_expected_shape() -> None:
    assert len(CITIES) == 18 and len(TOLL_STATIONS) == 115


@pytest.mark.parametrize("city", CITIES, ids=lambda a: a.code)
def test_every_city_resolves_by_short_name_full_name_and_code(places: PlaceResolver, city: AdminArea) -> None:
    for q in (city.short_name, city.name, city.code):
        top = places.resolve(q)[0]
        assert (top.kind, top.id, top.name, top.score) == (PlaceKind.CITY, city.code, city.name, 1.0), q
        assert (top.admin_code, top.admin_name) == (city.code, city.name)
        assert city.geometry.shape.covers(Point(top.lon, top.lat))


def test_every_toll_station_resolves_by_name_and_by_stem(places: PlaceResolver) -> None:
    unique = Counter(p.name for p in TOLL_STATIONS)
    for station in TOLL_STATIONS:
        found = places.resolve(station.name, limit=5)
        assert station.id in [c.id for c in found], station.name
        if unique[station.name] == 1:
            top = found[0]
            assert (top.id, top.kind, top.score) == (station.id, PlaceKind.TOLL_STATION, 1.0)
            assert top.admin_code == station.admin_code and top.admin_name
            assert (top.lon, top.lat) == tuple(station.geometry.coordinates[:2])
        stem = strip_suffix(station.name)[0]
        assert station.id in [c.id for c in places.resolve(stem, limit=10)], stem


@pytest.mark.parametrize("q", ["许昌东", "许昌东站", "许昌东收费站", "许昌东收费", "许昌东 收费站"])
def test_station_suffix_and_partial_variants(places: PlaceResolver, q: str) -> None:
    assert names(places, q)[0] == ("toll_station", "许昌东收费站")


def test_ranking_exact_then_stripped_then_prefix_then_contains(places: PlaceResolver) -> None:
    found = places.resolve("许昌", limit=50)
    assert (found[0].kind, found[0].name, found[0].score) == (PlaceKind.CITY, "许昌市", 1.0)
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    stripped = [c.name for c in found if c.score == 0.9]
    assert stripped[:2] == ["许昌收费站", "许昌服务区"]  # ties: toll station before service area
    assert {"许昌北收费站", "许昌东收费站", "许昌西收费站"} <= {c.name for c in found if c.score == 0.7}
    assert [c.name for c in places.resolve("港澳")] == ["京港澳高速"]
    assert places.resolve("港澳")[0].score == 0.5


def test_service_area_by_name_and_ambiguous_stem(places: PlaceResolver) -> None:
    assert names(places, "长葛服务区")[0] == ("service_area", "长葛服务区")
    both = names(places, "长葛")
    assert both[0] == ("county", "长葛市")
    assert {("toll_station", "长葛收费站"), ("service_area", "长葛服务区")} <= set(both[1:])


def test_county_carries_its_prefecture(places: PlaceResolver) -> None:
    [county] = places.resolve("长葛市", kinds={PlaceKind.COUNTY})
    assert (county.id, county.admin_code, county.admin_name) == ("411082", "411000", "许昌市")
    assert places.resolve("411082")[0].kind is PlaceKind.COUNTY


def test_query_suffix_hints_the_kind(places: PlaceResolver) -> None:
    assert names(places, "郑州站")[0] == ("toll_station", "郑州收费站")
    assert names(places, "郑州市")[0] == ("city", "郑州市")


@pytest.mark.parametrize(("q", "code", "name"), [
    ("G4", "G4", "京港澳高速"), ("g4", "G4", "京港澳高速"), ("Ｇ４", "G4", "京港澳高速"),
    ("G0421", "G0421", "许广高速"), ("京港澳高速", "G4", "京港澳高速"), ("京港澳", "G4", "京港澳高速"),
    ("连霍高速公路", "G30", "连霍高速"),
])
def test_roads_by_code_and_name(places: PlaceResolver, q: str, code: str, name: str) -> None:
    top = places.resolve(q)[0]
    assert (top.kind, top.id, top.name, top.admin_code) == (PlaceKind.ROAD, code, name, None)
    sections = [s for s in BUNDLE[Kind.ROAD_SECTION] if s.road_code == code]
    assert min(s.geometry.shape.distance(Point(top.lon, top.lat)) for s in sections) < 1e-9


def test_unknown_codes_find_nothing(places: PlaceResolver) -> None:
    assert places.resolve("G9999") == [] and places.resolve("419999") == []


def test_lon_lat_is_placed_in_its_prefecture(places: PlaceResolver) -> None:
    [here] = places.resolve(" 113.85 , 34.03 ")
    assert (here.kind, here.id, here.admin_name) == (PlaceKind.COORDINATES, "113.850000,34.030000", "许昌市")
    [gcj] = places.resolve("{:.7f},{:.7f}".format(*wgs84_to_gcj02(*XUCHANG)), crs=Crs.GCJ02)
    assert abs(gcj.lon - XUCHANG[0]) < 1e-6 and abs(gcj.lat - XUCHANG[1]) < 1e-6
    [far] = places.resolve("2.35,48.85")
    assert far.admin_code is None and far.admin_name is None


@pytest.mark.parametrize("q", ["200,30", "34.03,113.85", "-181,0"])
def test_lon_lat_out_of_range_is_an_error_on_q(places: PlaceResolver, q: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        places.resolve(q)
    assert err.value.param == "q" and "lon,lat" in err.value.detail


def test_nonsense_and_blank_find_nothing(places: PlaceResolver) -> None:
    assert places.resolve("xyzzy") == [] and places.resolve("巴黎铁塔") == [] and places.resolve("  ") == []


def test_limit_and_kinds(places: PlaceResolver) -> None:
    assert len(places.resolve("南", limit=3)) == 3
    kinds = {PlaceKind.SERVICE_AREA}
    assert names(places, "许昌", kinds=kinds) == [("service_area", "许昌服务区")]
    assert places.resolve("410100", kinds={PlaceKind.ROAD}) == []


def test_tables_follow_the_view_generation() -> None:
    model = ReadModel()
    places = PlaceResolver(model)
    model.apply([poi("sa1", *XUCHANG, name="许昌服务区")])
    assert names(places, "许昌") == [("service_area", "许昌服务区")]
    model.apply([poi("sa1", *XUCHANG, name="禹州服务区", version=2)])
    assert places.resolve("许昌") == [] and names(places, "禹州") == [("service_area", "禹州服务区")]
    model.apply([area("411000", "许昌市", "许昌", "prefecture", *XUCHANG, parent_code="410000")])
    assert places.resolve("禹州")[0].admin_name == "许昌市"  # no admin_code: placed by its position


# --------------------------------------------------------------------------- API
@pytest.fixture
async def client(app_client):  # noqa: ANN001, ANN201
    await seed(app_client.server.app, [
        area("411000", "许昌市", "许昌", "prefecture", *XUCHANG, parent_code="410000"),
        poi("sa1", XUCHANG[0] + 0.01, XUCHANG[1], name="许昌服务区", admin_code="411000"),
        poi("ts1", XUCHANG[0], XUCHANG[1] - 0.02, kind="toll_station", name="许昌东收费站"),
    ])
    return app_client


async def test_places_endpoint_answers_ranked_candidates(client) -> None:  # noqa: ANN001
    resp = await client.get("/v1/places", params={"q": "许昌"})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")
    body = await resp.json()
    assert body["query"] == "许昌" and body["count"] == len(body["candidates"]) == 3
    assert [(c["kind"], c["name"]) for c in body["candidates"]] == [
        ("city", "许昌市"), ("service_area", "许昌服务区"), ("toll_station", "许昌东收费站")]
    east = body["candidates"][2]
    assert east == {"kind": "toll_station", "id": "geodata:ts1", "name": "许昌东收费站", "admin_code": "411000",
                    "admin_name": "许昌市", "lon": XUCHANG[0], "lat": XUCHANG[1] - 0.02, "score": 0.7}


async def test_places_endpoint_filters_and_limits(client) -> None:  # noqa: ANN001
    body = await (await client.get("/v1/places", params={"q": "许昌", "kind": "toll_station,city",
                                                         "limit": "1"})).json()
    assert [c["name"] for c in body["candidates"]] == ["许昌市"]
    body = await (await client.get("/v1/places", params={"q": "许昌东站"})).json()
    assert [c["id"] for c in body["candidates"]] == ["geodata:ts1"]


async def test_places_endpoint_revalidates_until_a_source_view_changes(client) -> None:  # noqa: ANN001
    first = await client.get("/v1/places", params={"q": "许昌"})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and "max-age" in first.headers["Cache-Control"]
    again = await client.get("/v1/places", params={"q": "许昌"}, headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    other = await client.get("/v1/places", params={"q": "许昌东站"}, headers={"If-None-Match": etag})
    assert other.status == 200
    await seed(client.server.app, [poi("sa2", XUCHANG[0] - 0.01, XUCHANG[1], name="许昌北服务区")])
    changed = await client.get("/v1/places", params={"q": "许昌"}, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert "许昌北服务区" in [c["name"] for c in (await changed.json())["candidates"]]


async def test_places_endpoint_converts_crs_both_ways(client) -> None:  # noqa: ANN001
    gcj = wgs84_to_gcj02(XUCHANG[0], XUCHANG[1] - 0.02)
    body = await (await client.get("/v1/places", params={"q": "许昌东收费站", "crs": "gcj02"})).json()
    [station] = body["candidates"]
    assert abs(station["lon"] - gcj[0]) < 1e-6 and abs(station["lat"] - gcj[1]) < 1e-6
    body = await (await client.get("/v1/places", params={"q": f"{gcj[0]},{gcj[1]}", "crs": "gcj02"})).json()
    [here] = body["candidates"]
    assert here["kind"] == "coordinates" and here["admin_name"] == "许昌市"
    assert abs(here["lon"] - gcj[0]) < 1e-6 and abs(here["lat"] - gcj[1]) < 1e-6


@pytest.mark.parametrize(("params", "param"), [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "  "}, "q"),
    ({"q": "许" * 51}, "q"),
    ({"q": "200,30"}, "q"),
    ({"q": "许昌", "kind": "airport"}, "kind"),
    ({"q": "许昌", "limit": "0"}, "limit"),
    ({"q": "许昌", "limit": "51"}, "limit"),
    ({"q": "许昌", "crs": "utm"}, "crs"),
    ({"q": "许昌", "bbox": "1,2,3,4"}, "bbox"),
])
async def test_places_endpoint_bad_parameters_are_400s_naming_them(client, params, param) -> None:  # noqa: ANN001
    resp = await client.get("/v1/places", params=params)
    assert resp.status == 400 and resp.headers["Content-Type"].startswith("application/problem+json")
    assert (await resp.json())["param"] == param


async def test_places_endpoint_is_in_the_openapi_document(client) -> None:  # noqa: ANN001
    spec = await (await client.get("/openapi.json")).json()
    validate(spec)
    operation = spec["paths"]["/v1/places"]["get"]
    assert operation["tags"] == ["places"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"q", "limit", "kind", "crs"} and params["q"]["required"] is True
