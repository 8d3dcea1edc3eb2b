"""The ingest pipeline's document rules that no single parser decides: duplicates within one document."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from travel.bus import InProcessBus
from travel.models import Kind, SourceConfig
from travel.readmodel import ReadModel
from travel.store.embedded import EmbeddedStore
from travel.sync.health import HealthBoard
from travel.sync.pipeline import Ingestor

FIXTURE = Path(__file__).parent / "feeds" / "fixtures" / "open511" / "events.json"
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
