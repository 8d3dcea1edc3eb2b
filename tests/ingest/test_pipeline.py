"""The ingest pipeline's document rules that no single parser decides: duplicates within one document."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from travel.core.records import Kind, SourceConfig
from travel.ingest.health import HealthBoard
from travel.ingest.pipeline import Ingestor
from travel.read.readmodel import ReadModel
from travel.store.bus import InProcessBus
from travel.store.embedded import EmbeddedStore

FIXTURE = Path(__file__).parents[1] / "feeds" / "fixtures" / "open511" / "events.json"
SOURCE = SourceConfig(id="hn-open511", agency="河南省高速公路管理局", format="open511", push=True,
                      kinds=[Kind.EVENT])


async def _ingest(tmp_path: Path, document: dict) -> tuple[list[str], EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    ingestor = Ingestor(store, InProcessBus(), ReadModel(), HealthBoard())
    outcome = await ingestor.take(SOURCE, json.dumps(document, ensure_ascii=False).encode())
    return outcome.rejected, store


async def test_the_same_event_twice_with_different_content_keeps_the_first_and_says_why(tmp_path: Path) -> None:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    first = document["events"][0]
    conflicting = copy.deepcopy(first) | {"headline": "同一编号、同一版本、内容不同"}
    document["events"].append(conflicting)
    rejected, store = await _ingest(tmp_path, document)
    try:
        assert len(rejected) == 1 and "appears again with the same version" in rejected[0]
        stored = await store.get(Kind.EVENT, f"hn-open511:{first['id']}")
        assert stored is not None and "同一编号" not in stored.description
    finally:
        await store.close()


async def test_an_identical_repeat_is_not_a_conflict(tmp_path: Path) -> None:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["events"].append(copy.deepcopy(document["events"][0]))
    rejected, store = await _ingest(tmp_path, document)
    await store.close()
    assert rejected == []


def _notices(*ids: str) -> dict:
    return {"type": "FeatureCollection", "kind": "toll_notice", "snapshot": True, "features": [
        {"type": "Feature", "id": i, "geometry": None, "properties": {
            "policy": "exemption", "title": f"测试免费通行{i}", "starts_at": "2026-11-24T00:00:00+08:00",
            "updated_at": "2026-11-23T12:00:00+08:00"}} for i in ids]}


async def test_a_toll_notice_missing_from_a_snapshot_is_cancelled_and_kept_in_history(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "travel.sqlite3")
    await store.open()
    try:
        source = SourceConfig(id="hn-toll-notices", agency="河南省交通运输厅", format="geojson", push=True,
                              kinds=[Kind.TOLL_NOTICE])
        ingestor = Ingestor(store, InProcessBus(), ReadModel(), HealthBoard())
        await ingestor.take(source, json.dumps(_notices("a", "b"), ensure_ascii=False).encode())
        outcome = await ingestor.take(source, json.dumps(_notices("a"), ensure_ascii=False).encode())
        assert outcome.ended == 1
        withdrawn = await store.get(Kind.TOLL_NOTICE, "hn-toll-notices:b")
        kept = await store.get(Kind.TOLL_NOTICE, "hn-toll-notices:a")
        assert withdrawn is not None and withdrawn.cancelled and withdrawn.version > 1
        assert kept is not None and not kept.cancelled
        assert len(await store.history(Kind.TOLL_NOTICE, "hn-toll-notices:b")) == 2
    finally:
        await store.close()
