"""OSM extract import: a tiny .osm.pbf is written in the test, then read back as road sections."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import osmium
import pytest
from osmium.osm.mutable import Node, Relation, Way

from travel.core.errors import InvalidRecord
from travel.core.records import Kind, RoadClass, RoadSection
from travel.ingest.importer import import_file
from travel.ingest.osm import OsmStats, read_osm
from travel.routing.network import RoadNetwork
from travel.store.bus import InProcessBus
from travel.store.embedded import EmbeddedStore

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
WAY_TIME = datetime(2026, 3, 1, tzinfo=UTC)
DEG_LAT_M = 111_195.08  # metres per degree of latitude on the mean-radius sphere

NODES: dict[int, tuple[float, float]] = {
    1: (113.70, 34.60), 2: (113.70, 34.65), 3: (113.70, 34.70), 4: (113.70, 34.75), 5: (113.70, 34.80),
    10: (113.65, 34.70), 13: (113.675, 34.70), 11: (113.75, 34.70), 12: (113.80, 34.72),
    20: (113.72, 34.65),
    30: (113.50, 34.50), 31: (113.55, 34.50), 32: (113.60, 34.52),
    33: (113.60, 34.49), 40: (113.675, 34.68), 50: (113.701, 34.80), 51: (113.701, 34.60),
    # A crossroads at n71 (S201 west-east, X101 south-north) with a diagonal detour n73 - n72.
    70: (114.00, 34.00), 71: (114.02, 34.00), 72: (114.04, 34.00), 73: (114.02, 34.02), 74: (114.02, 33.98),
    76: (114.02, 33.99),
}
WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    # G4 north-bound, split by the ramp at n2, by G30 at n3, continued by way 101 at n4.
    (100, [1, 2, 3, 4], {"highway": "motorway", "ref": "G4", "name": "京港澳高速", "toll": "yes",
                         "maxspeed": "120", "lanes": "3"}),
    (101, [4, 5], {"highway": "motorway", "ref": "G4", "name": "京港澳高速", "toll": "yes"}),
    (102, [50, 51], {"highway": "motorway", "ref": "G4", "name": "京港澳高速"}),  # south-bound carriageway
    # G30 crossing G4 at n3; n13 is shared only with skipped ways, so it is no junction.
    (200, [10, 13, 3, 11], {"highway": "motorway", "ref": "G30", "name:zh": "连霍高速", "name": "Lianhuo",
                            "maxspeed": "62 mph", "maxheight": "4.5", "toll": "yes"}),
    (300, [11, 12], {"highway": "trunk", "ref": "G107;S1", "name": "107国道", "oneway": "no"}),
    # Ramp digitised against the traffic: travel runs n20 → n2.
    (400, [2, 20], {"highway": "motorway_link", "ref": "G4", "oneway": "-1"}),
    (500, [30, 31], {"highway": "secondary", "ref": "S 312", "lanes": "2", "maxweight": "20",
                     "maxaxleload": "10 t"}),
    (501, [31, 32], {"highway": "tertiary", "ref": "X012", "maxspeed": "CN:urban"}),
    (502, [33, 31], {"highway": "secondary", "ref": "S312"}),  # two-way, digitised against way 500
    (600, [13, 40], {"highway": "primary", "name": "无编号路"}),  # no ref: skipped
    (601, [13, 40], {"highway": "primary", "ref": "Airport Rd"}),  # no valid ref: skipped
    (602, [13, 40], {"highway": "residential", "ref": "X999"}),  # not a kept highway
    (603, [90, 91], {"highway": "motorway", "ref": "G5"}),  # nodes not in the file: skipped
    (700, [70, 71], {"highway": "secondary", "ref": "S201"}),
    (701, [71, 72], {"highway": "secondary", "ref": "S201"}),
    (702, [71, 73], {"highway": "secondary", "ref": "X101"}),
    (703, [74, 71], {"highway": "secondary", "ref": "X101"}),
    (704, [73, 72], {"highway": "secondary", "ref": "X102"}),
    (705, [76, 71], {"highway": "service"}),  # not a kept highway
]
Members = list[tuple[str, int, str]]


def turn(from_way: int, via: int, to_way: int, via_type: str = "n") -> Members:
    return [("w", from_way, "from"), (via_type, via, "via"), ("w", to_way, "to")]


RELATIONS: list[tuple[int, Members, dict[str, str]]] = [
    # Applied: east-bound on S201, no left turn to the north; from the south, straight on only; west-bound,
    # no right turn to the north (buses exempt: still a ban for cars and trucks); south-bound, cars may not go
    # straight on; north-bound on G4, no right turn onto G30 at n3, which both one-way ways pass through
    # (resolved by their direction).
    (1, turn(700, 71, 702), {"type": "restriction", "restriction": "no_left_turn"}),
    (2, turn(703, 71, 702), {"type": "restriction", "restriction": "only_straight_on"}),
    (3, turn(701, 71, 702), {"type": "restriction", "restriction": "no_right_turn", "except": "psv;bicycle"}),
    (4, turn(702, 71, 703), {"type": "restriction", "restriction:motorcar": "no_straight_on"}),
    (5, turn(100, 3, 200), {"type": "restriction", "restriction": "no_right_turn"}),
    # Skipped, each counted.
    (10, turn(700, 701, 704, "w"), {"type": "restriction", "restriction": "no_u_turn"}),  # via a way
    (11, turn(700, 71, 705), {"type": "restriction", "restriction": "no_right_turn"}),  # 705 is not kept
    (12, turn(500, 71, 702), {"type": "restriction", "restriction": "no_left_turn"}),  # 500 is far from n71
    (13, turn(101, 4, 100), {"type": "restriction", "restriction": "no_u_turn"}),  # one-way 101 leaves n4
    (14, turn(702, 71, 701), {"type": "restriction", "restriction:hgv": "no_left_turn"}),  # trucks only
    (15, turn(702, 71, 700), {"type": "restriction", "restriction:conditional": "no_right_turn @ (07:00-09:00)"}),
    (16, turn(702, 71, 703), {"type": "restriction", "restriction": "no_straight_on", "except": "motorcar"}),
    (17, turn(702, 71, 703), {"type": "restriction", "restriction": "no_parking"}),
    (18, turn(702, 71, 703)[:2], {"type": "restriction", "restriction": "no_u_turn"}),  # no "to"
    (19, turn(700, 71, 702), {"type": "route", "route": "bus"}),  # not a restriction: not read
]


def write_pbf(path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict[str, str]]],
              relations: Sequence[tuple[int, Members, dict[str, str]]] = ()) -> Path:
    writer = osmium.SimpleWriter(str(path))
    try:
        for node_id in sorted(nodes):
            writer.add_node(Node(id=node_id, location=nodes[node_id], version=1))
        for way_id, refs, tags in ways:
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=way_id % 7 + 1, timestamp=WAY_TIME))
        for relation_id, members, tags in relations:
            writer.add_relation(Relation(id=relation_id, members=members, tags=tags, version=1))
    finally:
        writer.close()
    return path


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pbf(tmp_path_factory.mktemp("osm") / "henan.osm.pbf", NODES, WAYS, RELATIONS)


@pytest.fixture(scope="module")
def imported(extract: Path) -> tuple[dict[str, RoadSection], OsmStats]:
    stats = OsmStats()
    sections = list(read_osm(extract, updated_at=T0, stats=stats))
    return {s.source_id: s for s in sections}, stats


def test_ways_split_at_junctions_only(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    assert sorted(sections) == [
        "w100-0", "w100-1", "w100-2", "w101-0", "w102-0", "w200-0", "w200-1", "w300-0", "w400-0", "w500-0",
        "w501-0", "w502-0", "w700-0", "w701-0", "w702-0", "w703-0", "w704-0",
    ]
    nodes = [(sections[f"w100-{n}"].from_node, sections[f"w100-{n}"].to_node) for n in range(3)]
    assert nodes == [("n1", "n2"), ("n2", "n3"), ("n3", "n4")]
    g30 = sections["w200-0"]
    assert (g30.from_node, g30.to_node) == ("n10", "n3")
    assert g30.geometry.coordinates == [[113.65, 34.70], [113.675, 34.70], [113.70, 34.70]]
    assert sections["w200-1"].geometry.coordinates == [[113.70, 34.70], [113.75, 34.70]]


def test_identity_and_provenance(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    section = imported[0]["w100-1"]
    assert section.id == "osm:w100-1"
    assert section.source == "osm"
    assert section.version == 100 % 7 + 1
    assert section.updated_at == T0


def test_tags_map_to_fields(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    g4, g30, g107 = sections["w100-0"], sections["w200-0"], sections["w300-0"]
    assert (g4.road, g4.road_name, g4.road_class) == ("G4", "京港澳高速", RoadClass.EXPRESSWAY)
    assert (g4.oneway, g4.speed_kmh, g4.lanes, g4.toll, g4.restrictions) == (True, 120, 3, True, None)
    assert sections["w101-0"].speed_kmh == 120  # motorway default
    assert (g30.road, g30.road_name, g30.speed_kmh) == ("G30", "连霍高速", 99.8)
    assert g30.restrictions is not None and g30.restrictions.max_height_m == 4.5
    assert (g107.road, g107.road_class, g107.oneway, g107.toll, g107.speed_kmh) == (
        "G107", RoadClass.NATIONAL, False, False, 100)
    s312, x012 = sections["w500-0"], sections["w501-0"]
    assert (s312.road, s312.road_class, s312.lanes, s312.oneway) == ("S312", RoadClass.PROVINCIAL, 2, False)
    assert s312.restrictions is not None
    assert (s312.restrictions.max_weight_t, s312.restrictions.max_axle_load_t) == (20, 10)
    assert (x012.road, x012.road_class, x012.speed_kmh, x012.road_name) == ("X012", RoadClass.COUNTY, 40, "X012")


def test_reverse_oneway_ramp_runs_in_travel_direction(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    ramp = imported[0]["w400-0"]
    assert (ramp.from_node, ramp.to_node, ramp.oneway) == ("n20", "n2", True)
    assert ramp.geometry.coordinates == [[113.72, 34.65], [113.70, 34.65]]
    assert (ramp.road_class, ramp.speed_kmh) == (RoadClass.EXPRESSWAY, 60)


def assert_contiguous(chain: list[RoadSection]) -> None:
    """Sections listed in travel order: each starts at the stake the previous one ends at."""
    for prev, nxt in zip(chain, chain[1:], strict=False):
        assert prev.to_node == nxt.from_node
        assert prev.end_stake_m == pytest.approx(nxt.start_stake_m, abs=0.11)


def test_stakes_run_north_to_south_on_both_carriageways(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    north_bound = [sections[i] for i in ("w100-0", "w100-1", "w100-2", "w101-0")]
    assert_contiguous(north_bound)
    assert north_bound[-1].end_stake_m == 0  # the northern end, as G4 is numbered from Beijing
    for section in north_bound:
        assert section.start_stake_m - section.end_stake_m == pytest.approx(0.05 * DEG_LAT_M, rel=1e-3)
    south_bound = sections["w102-0"]
    assert south_bound.start_stake_m == 0 < south_bound.end_stake_m
    assert south_bound.end_stake_m == pytest.approx(north_bound[0].start_stake_m, rel=1e-3)


def test_stakes_run_east_to_west_on_east_west_roads(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    g30 = [sections["w200-0"], sections["w200-1"]]
    assert_contiguous(g30)
    assert g30[0].start_stake_m > g30[1].start_stake_m > g30[1].end_stake_m == 0


def test_mixed_digitisation_keeps_one_chainage(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    east, west = sections["w502-0"], sections["w500-0"]  # n33 → n31 and n30 → n31
    assert east.start_stake_m == 0
    assert east.end_stake_m == west.end_stake_m
    west_length = 0.05 * DEG_LAT_M * math.cos(math.radians(34.50))
    assert west.start_stake_m == pytest.approx(east.end_stake_m + west_length, rel=1e-3)


def test_skipped_ways_and_concurrent_refs_are_reported(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    _, stats = imported
    assert (stats.ways, stats.sections, stats.restrictions) == (14, 17, 5)
    assert stats.skipped == {
        "no_ref": 2, "unlocated": 1, "restriction_via_way": 1, "restriction_not_kept": 1,
        "restriction_not_at_via": 1, "restriction_wrong_way": 1, "restriction_vehicle": 1,
        "restriction_conditional": 1, "restriction_except": 1, "restriction_unknown_value": 1,
        "restriction_malformed": 1,
    }
    assert stats.concurrent == {"G107": {"S1"}}


def test_turn_restrictions_become_banned_turns(imported: tuple[dict[str, RoadSection], OsmStats]) -> None:
    sections, _ = imported
    banned = {source_id: [(b.to, b.via) for b in s.banned_turns] for source_id, s in sections.items()
              if s.banned_turns}
    assert banned == {  # each at the relation's via node
        "w700-0": [("osm:w702-0", "n71")],  # no_left_turn
        "w703-0": [("osm:w700-0", "n71"), ("osm:w701-0", "n71")],  # only_straight_on: every other way out, not back
        "w701-0": [("osm:w702-0", "n71")],  # no_right_turn except psv
        "w702-0": [("osm:w703-0", "n71")],  # restriction:motorcar
        "w100-1": [("osm:w200-1", "n3")],  # the pieces driving into and out of n3
    }


def route_ids(network: RoadNetwork, start: str, end: str) -> list[str]:
    route = network.engine.route([(network.node_number[start], 0.0)], [(network.node_number[end], 0.0)])
    assert route is not None
    return [network.ids[i].removeprefix("osm:") for i in route.sections]


@pytest.mark.parametrize(("start", "end", "allowed", "detour"), [
    ("n70", "n73", ["w700-0", "w702-0"], ["w700-0", "w701-0", "w704-0"]),  # no left turn: round by n72
    ("n74", "n72", ["w703-0", "w701-0"], ["w703-0", "w702-0", "w704-0"]),  # only straight on: round by n73
])
def test_routes_keep_the_turn_restrictions(imported: tuple[dict[str, RoadSection], OsmStats], start: str, end: str,
                                           allowed: list[str], detour: list[str]) -> None:
    sections = list(imported[0].values())
    unrestricted = [s.model_copy(update={"banned_turns": []}) for s in sections]
    assert route_ids(RoadNetwork(unrestricted, landmarks=2), start, end) == allowed
    assert route_ids(RoadNetwork(sections, landmarks=2), start, end) == detour


def test_banned_turns_name_sections_after_degenerate_pieces(tmp_path: Path) -> None:
    # n2 and n3 are mapped on one spot and both are junctions: the zero-length piece between them is
    # no section, so the piece leaving n3 is w1-1, and the turn into it names w1-1.
    nodes = {1: (113.00, 34.00), 2: (113.01, 34.00), 3: (113.01, 34.00), 4: (113.02, 34.00),
             5: (113.01, 34.01), 6: (113.01, 33.99)}
    ways = [(1, [1, 2, 3, 4], {"highway": "primary", "ref": "G107"}),
            (2, [2, 5], {"highway": "primary", "ref": "S1"}),
            (3, [6, 3], {"highway": "primary", "ref": "S2"})]
    path = write_pbf(tmp_path / "degenerate.osm.pbf", nodes, ways,
                     [(1, turn(3, 3, 1), {"type": "restriction", "restriction": "no_right_turn"})])
    stats = OsmStats()
    sections = {s.source_id: s for s in read_osm(path, stats=stats)}
    assert stats.skipped == {"degenerate": 1} and stats.restrictions == 1
    assert [(b.to, b.via) for b in sections["w3-0"].banned_turns] == [("osm:w1-1", "n3")]
    assert sections["w1-1"].from_node == "n3"


def test_way_timestamp_is_the_default_updated_at(extract: Path) -> None:
    first = next(read_osm(extract, source="osm-cn"))
    assert first.updated_at == WAY_TIME
    assert first.id.startswith("osm-cn:w")


def test_invalid_way_names_the_way_and_field(tmp_path: Path) -> None:
    path = write_pbf(tmp_path / "bad.osm.pbf", {1: (113.0, 34.0), 2: (113.1, 34.0)},
                     [(7, [1, 2], {"highway": "primary", "ref": "G107", "maxspeed": "300"})])
    with pytest.raises(InvalidRecord, match=r"OSM way 7: speed_kmh") as info:
        list(read_osm(path))
    assert info.value.param == "speed_kmh"


def test_corrupt_file_raises_invalid_record(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.osm.pbf"
    path.write_bytes(b"this is not a protocol buffer" * 20)
    with pytest.raises(InvalidRecord, match="corrupt.osm.pbf: not a readable OSM file"):
        list(read_osm(path))


def test_missing_file_raises_invalid_record(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecord, match="not a readable OSM file"):
        list(read_osm(tmp_path / "missing.osm.pbf"))


async def test_import_network_from_an_osm_extract_is_idempotent(extract: Path, tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "osm.sqlite3")
    await store.open()
    try:
        bus = InProcessBus()
        first = await import_file(store, bus, Kind.ROAD_SECTION, extract)
        expected = len(list(read_osm(extract)))
        assert first.created == expected > 0
        again = await import_file(store, bus, Kind.ROAD_SECTION, extract)
        assert again.unchanged == expected and again.created == again.updated == 0
        assert (await store.counts())[Kind.ROAD_SECTION] == expected
    finally:
        await store.close()
