"""The API benchmark's machinery at tiny scale: seeding, both server processes, a generator, the report."""

from __future__ import annotations

import json
import sys

import pytest
from rich.console import Console

from bench import api
from bench.__main__ import main as bench_main


@pytest.mark.timeout(60)
def test_api_bench_runs_at_tiny_scale(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--store", "embedded", "--duration", "1", "--warmup", "0", "--connections", "4",
            "--pois", "300", "--events", "200", "--radius-m", "50000", "--box-deg", "1"]
    report = api.run(api.parse_args(argv), Console(stderr=True, quiet=True))

    assert report.reference.rps > 0
    assert report.reference.non2xx == 0
    assert [r.backend for r in report.rows] == ["embedded", "embedded"]
    for row in report.rows:
        assert row.sample.requests > 0, row
        assert row.sample.rps > 0, row
        assert row.sample.p50_ms > 0, row
        assert row.sample.non2xx == 0, row
        assert row.reference.rps > 0 and row.reference.non2xx == 0, row
        assert row.ratio == row.sample.rps / row.reference.rps, row
        if sys.platform == "linux":
            assert row.sample.server_cpu_s > 0, row

    doc = report.to_json()
    assert json.loads(json.dumps(doc))["results"][0]["rps"] > 0
    Console(width=120).print(api.render(report))
    assert "reference" in capsys.readouterr().out


def test_dispatcher_lists_benchmarks_and_rejects_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["nope"]) == 2
    assert "api" in capsys.readouterr().err


def test_reference_document_is_about_2_kb() -> None:
    body = json.loads(api.reference_body())
    assert body["type"] == "FeatureCollection"
    assert 1800 <= len(api.reference_body()) <= 2300


@pytest.mark.timeout(120)
async def test_feeds_bench_runs_at_tiny_scale() -> None:
    from bench import feeds

    table, _ = feeds.parse_table(50)
    assert table.row_count == len(feeds.FORMATS)
    table, _ = await feeds.freshness(pushes=5, polls=1, poll_interval_s=1.0)
    assert table.row_count == 2  # the targets are the benchmark's to judge, not a timed assertion
