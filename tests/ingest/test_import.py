"""`travel import KIND FILE`: every kind on both backends, idempotent, updates changed records, all or nothing."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import shapely

from geodata import BUNDLE_DIR
from travel.core.errors import InvalidRecord
from travel.core.records import Kind, record_from_json
from travel.ingest.importer import (
    Defaults,
    ImportRefused,
    _regrouped,
    _spooled,
    checked_records,
    import_bundle,
    import_file,
    validate,
)
from travel.store.base import Store, to_rows
from travel.store.bus import InProcessBus

BUNDLED = {
    Kind.ROAD_SECTION: ("road_network.geojson", 453),
    Kind.POI: ("pois.geojson", 226),
    Kind.TOLL_SECTION: ("toll_sections.geojson", 156),
    Kind.WATERWAY: ("waterways.geojson", 10),
    Kind.GAUGE: ("gauges.csv", 16),
    Kind.ADMIN_AREA: ("admin_areas.geojson", 19),
}
TOLL_RATES = """id,toll_section,vehicle_class,fen_per_km,effective_from
ts1-1,geodata:ts1,1,45,2026-01-01T00:00:00+08:00
ts1-2,geodata:ts1,2,60,2026-01-01T00:00:00+08:00
ts2-1,geodata:ts2,1,45,2026-01-01T00:00:00+08:00
"""
UPDATED_AT = "2026-11-24T00:00:00+08:00"


def _toll_rates(tmp_path: Path) -> Path:
    path = tmp_path / "toll_rates.csv"
    path.write_text(TOLL_RATES, encoding="utf-8")
    return path


async def test_every_kind_imports_once_then_is_unchanged(store: Store, tmp_path: Path) -> None:
    bus = InProcessBus()
    await bus.start()
    files = {kind: (BUNDLE_DIR / name, n) for kind, (name, n) in BUNDLED.items()}
    files[Kind.TOLL_RATE] = (_toll_rates(tmp_path), 3)
    for kind, (path, n) in files.items():
        first = await import_file(store, bus, kind, path, updated_at=UPDATED_AT)
        assert (first.created, first.updated, first.unchanged) == (n, 0, 0), kind
        again = await import_file(store, bus, kind, path, updated_at=UPDATED_AT)
        assert (again.created, again.updated, again.unchanged) == (0, 0, n), kind
    assert await store.counts() == {kind: n for kind, (_, n) in files.items()}


async def test_a_changed_feature_is_the_one_update_with_the_next_version(store: Store, tmp_path: Path) -> None:
    bus = InProcessBus()
    await bus.start()
    await import_file(store, bus, Kind.POI, BUNDLE_DIR / "pois.geojson")
    before = int(await bus.position())
    data = json.loads((BUNDLE_DIR / "pois.geojson").read_text(encoding="utf-8"))
    feature = data["features"][7]
    feature["properties"]["name"] += "（新）"
    changed = tmp_path / "pois.geojson"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = await import_file(store, bus, Kind.POI, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 225)
    rid = f"geodata:{feature['id']}"
    current = await store.get(Kind.POI, rid)
    assert current is not None and current.name == feature["properties"]["name"] and current.version == 2
    assert [r.version for r in await store.history(Kind.POI, rid)] == [1, 2]
    assert int(await bus.position()) == before + 1  # the one update was published


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    data = json.loads((BUNDLE_DIR / "pois.geojson").read_text(encoding="utf-8"))
    data["features"][4]["geometry"]["coordinates"] = [500.0, 34.0]
    data["features"][9]["properties"]["name"] = None
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(data), encoding="utf-8")
    data = json.loads((BUNDLE_DIR / "pois.geojson").read_text(encoding="utf-8"))
    data["features"][11]["id"] = data["features"][2]["id"]
    dup = tmp_path / "dup.geojson"
    dup.write_text(json.dumps(data), encoding="utf-8")
    return {"bad": (bad, ["feature 5", "feature 10"]), "dup": (dup, ["feature 12", "feature 3", "duplicate"])}


@pytest.mark.parametrize("case", ["bad", "dup"])
async def test_a_bad_file_stores_nothing_and_names_every_bad_feature(
    store: Store, tmp_path: Path, case: str
) -> None:
    path, expected = _bad_files(tmp_path)[case]
    with pytest.raises(ImportRefused) as err:
        await import_file(store, InProcessBus(), Kind.POI, path)  # refused before the bus is needed
    text = "\n".join(err.value.errors)
    assert all(word in text for word in expected), text
    assert await store.counts() == {}


async def test_bad_csv_rows_are_all_named_by_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "toll_rates.csv"
    path.write_text(TOLL_RATES + "ts2-2,geodata:ts2,two,60,2026-01-01T00:00:00+08:00\n"
                    "ts1-1,geodata:ts1,1,45,2026-01-01T00:00:00+08:00\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as err:
        await import_file(store, InProcessBus(), Kind.TOLL_RATE, path, updated_at=UPDATED_AT)
    assert len(err.value.errors) == 2
    assert "line 5" in err.value.errors[0] and "vehicle_class" in err.value.errors[0]
    assert "line 6" in err.value.errors[1] and "first used on line 2" in err.value.errors[1]
    assert await store.counts() == {}


def test_cli_imports_pois_and_refuses_a_bad_file_with_status_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["TRAVEL_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "travel", "import", *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    bad, _ = _bad_files(tmp_path)["bad"]
    refused = run("pois", str(bad))
    assert refused.returncode == 2 and "feature 5" in refused.stderr and "nothing imported" in refused.stderr
    first = run("pois", str(BUNDLE_DIR / "pois.geojson"))
    assert first.returncode == 0, first.stderr
    assert "226 new, 0 updated, 0 unchanged (poi 226)" in first.stderr
    second = run("pois", str(BUNDLE_DIR / "pois.geojson"))
    assert "0 new, 0 updated, 226 unchanged" in second.stderr
    assert run("pois").returncode == 2


async def test_an_updated_bundle_updates_what_is_stored(store: Store, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE_DIR, bundle, ignore=shutil.ignore_patterns("*.py", "tools", "__pycache__"))
    first = await import_bundle(store, InProcessBus(), bundle)
    assert first.created > 800 and first.updated == 0
    data = json.loads((bundle / "pois.geojson").read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["poi_kind"] == "service_area")
    feature["properties"]["open_status"] = "closed"
    (bundle / "pois.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    second = await import_bundle(store, InProcessBus(), bundle)
    assert (second.created, second.updated, second.unchanged) == (0, 1, first.created - 1)
    stored = await store.get(Kind.POI, f"geodata:{feature['id']}")
    assert stored is not None and stored.version == 2 and stored.open_status == "closed"


@pytest.mark.parametrize("kind", [*BUNDLED, Kind.TOLL_RATE])
def test_spooled_batches_give_back_every_record_as_its_row(kind: Kind, tmp_path: Path) -> None:
    path = _toll_rates(tmp_path) if kind is Kind.TOLL_RATE else BUNDLE_DIR / BUNDLED[kind][0]
    defaults = Defaults(updated_at=UPDATED_AT)
    records = list(checked_records(path, kind, defaults))
    with tempfile.TemporaryFile() as spool:
        assert validate(path, kind, defaults, spool, batch=7) == len(records)
        batches = list(_spooled(spool))
    assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
    back = [row for batch in batches for row in batch]
    assert back == to_rows(records)
    for original, row in zip(records, back, strict=True):
        assert record_from_json(kind, row.body("null")) == original
        if original.geometry is not None:
            assert row.wkb is not None and shapely.equals_exact(shapely.from_wkb(row.wkb), original.geometry.shape)


def test_checked_records_name_a_bad_record_and_read_on(tmp_path: Path) -> None:
    data = json.loads((BUNDLE_DIR / "pois.geojson").read_text(encoding="utf-8"))
    data["features"][1]["geometry"] = {"type": "Point", "coordinates": [200.0, 34.0]}
    path = tmp_path / "pois.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    items = list(checked_records(path, Kind.POI, Defaults(updated_at=UPDATED_AT)))
    assert len(items) == len(data["features"])
    assert isinstance(items[1], InvalidRecord) and "feature 2" in items[1].detail
    assert not any(isinstance(item, InvalidRecord) for item in items[:1] + items[2:])


@pytest.mark.parametrize("alone_until", [0, 12])
def test_a_worker_process_validates_chunks_in_file_order(alone_until: int, tmp_path: Path) -> None:
    path, kind = BUNDLE_DIR / "pois.geojson", Kind.POI
    defaults = Defaults(updated_at=UPDATED_AT)
    records = list(checked_records(path, kind, defaults))
    advanced: list[int] = []
    with tempfile.TemporaryFile() as spool:
        count = validate(path, kind, defaults, spool, batch=5, advance=advanced.append, alone_until=alone_until)
        back = [row for batch in _spooled(spool) for row in batch]
    assert count == sum(advanced) == len(records) and back == to_rows(records)


@pytest.mark.parametrize("case", ["bad", "dup"])
def test_errors_found_by_the_worker_name_the_feature_in_file_order(case: str, tmp_path: Path) -> None:
    path, expected = _bad_files(tmp_path)[case]
    with tempfile.TemporaryFile() as spool, pytest.raises(ImportRefused) as err:
        validate(path, Kind.POI, Defaults(), spool, batch=2, alone_until=4)
    with tempfile.TemporaryFile() as spool, pytest.raises(ImportRefused) as same:
        validate(path, Kind.POI, Defaults(), spool, batch=2)
    text = "\n".join(err.value.errors)
    assert err.value.errors == same.value.errors and all(word in text for word in expected), text


def test_spooled_chunks_are_regrouped_into_commit_batches() -> None:
    chunks = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    assert list(_regrouped(iter(chunks), 5)) == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]]  # type: ignore[arg-type]
    assert list(_regrouped(iter([]), 5)) == []


async def test_commit_batches_smaller_than_a_spooled_chunk_import_everything(store: Store) -> None:
    bus = InProcessBus()
    await bus.start()
    name, n = BUNDLED[Kind.ROAD_SECTION]
    report = await import_file(store, bus, Kind.ROAD_SECTION, BUNDLE_DIR / name, batch=100)
    assert (report.created, await store.counts()) == (n, {Kind.ROAD_SECTION: n})


async def test_the_collector_is_restored_after_an_import_even_a_refused_one(store: Store, tmp_path: Path) -> None:
    thresholds = gc.get_threshold()
    await import_file(store, InProcessBus(), Kind.POI, BUNDLE_DIR / "pois.geojson")
    assert gc.get_threshold() == thresholds
    with pytest.raises(ImportRefused):
        await import_file(store, InProcessBus(), Kind.POI, _bad_files(tmp_path)["bad"][0])
    assert gc.get_threshold() == thresholds


async def test_banned_turns_import_with_their_via_node_and_in_the_older_form(store: Store, tmp_path: Path) -> None:
    data = json.loads((BUNDLE_DIR / "road_network.geojson").read_text(encoding="utf-8"))
    first, second = data["features"][0], data["features"][1]
    via = first["properties"]["to_node"]
    first["properties"]["banned_turns"] = [{"to": f"geodata:{second['id']}", "via": via}]
    second["properties"]["banned_turns"] = [f"geodata:{first['id']}"]  # the older form: at every shared node
    data["features"] = [first, second]
    path = tmp_path / "network.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bus = InProcessBus()
    await bus.start()
    assert (await import_file(store, bus, Kind.ROAD_SECTION, path)).created == 2
    stored = [await store.get(Kind.ROAD_SECTION, f"geodata:{f['id']}") for f in (first, second)]
    assert [(b.to, b.via) for r in stored for b in r.banned_turns] == [  # type: ignore[union-attr]
        (f"geodata:{second['id']}", via), (f"geodata:{first['id']}", None)]
    assert (await import_file(store, bus, Kind.ROAD_SECTION, path)).unchanged == 2
    first["properties"]["banned_turns"] = [{"to": f"geodata:{second['id']}", "at": via}]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportRefused) as err:
        await import_file(store, bus, Kind.ROAD_SECTION, path)
    assert "feature 1" in "\n".join(err.value.errors)
