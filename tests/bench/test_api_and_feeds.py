"""The API benchmark's machinery at tiny scale: seeding, both server processes, a generator, the report."""

from __future__ import annotations

import json
import statistics
import sys

import pytest
from rich.console import Console

from bench import api
from bench.__main__ import main as bench_main


@pytest.mark.timeout(60)
def test_api_bench_runs_at_tiny_scale(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--store", "embedded", "--duration", "1", "--warmup", "0", "--rounds", "2", "--connections", "4",
            "--pois", "300", "--events", "200", "--radius-m", "50000", "--box-deg", "1"]
    report = api.run(api.parse_args(argv), Console(stderr=True, quiet=True))

    assert report.reference.rps > 0
    assert report.reference.non2xx == 0
    assert [r.backend for r in report.rows] == ["embedded", "embedded"]
    for row in report.rows:
        assert len(row.pairs) == 2, row
        assert row.ratio == statistics.median(s.rps / ref.rps for s, ref in row.pairs), row
        assert row.median_pair in row.pairs, row
        for sample, reference in row.pairs:
            assert sample.requests > 0 and sample.rps > 0 and sample.p50_ms > 0, row
            assert sample.non2xx == 0, row
            assert reference.rps > 0 and reference.non2xx == 0, row
            if sys.platform == "linux":
                assert sample.server_cpu_s > 0, row

    doc = json.loads(json.dumps(report.to_json()))
    assert doc["options"]["rounds"] == 2
    for result, row in zip(doc["results"], report.rows, strict=True):
        assert result["rps"] > 0
        assert result["ratio"] == round(row.ratio, 3)
        assert [r["rps"] for r in result["rounds"]] == [round(s.rps, 1) for s, _ in row.pairs]
    Console(width=120).print(api.render(report))
    assert "reference" in capsys.readouterr().out


def _sample(rps: float, p99_ms: float = 10.0, non2xx: int = 0, errors: int = 0) -> api.Sample:
    return api.Sample(requests=round(rps * 10), duration_s=10.0, bytes=0, p50_ms=1.0, p99_ms=p99_ms, non2xx=non2xx,
                      errors=errors)


def _row(*pairs: tuple[api.Sample, api.Sample]) -> api.Row:
    return api.Row("embedded", "pois", pairs)


def test_row_takes_the_median_round_and_fails_on_any_failed_request() -> None:
    ref = _sample(1000)
    low, high, middle = (_sample(500), ref), (_sample(700), ref), (_sample(650), ref)
    row = _row(low, high, middle)
    assert row.ratios == pytest.approx((0.5, 0.7, 0.65))
    assert row.ratio == pytest.approx(0.65)
    assert row.median_pair == middle and row.sample is middle[0] and row.reference is ref
    assert row.meets_targets

    assert _row(low, (_sample(700, p99_ms=30.0), ref), middle).meets_targets  # slow in one round of three
    slow = _row((_sample(500, p99_ms=30.0), ref), (_sample(700, p99_ms=26.0), ref), middle)
    assert slow.p99_ms == 26.0 and slow.worst_p99_ms == 30.0 and not slow.meets_targets  # slow typically
    assert not _row(low, high, (_sample(650, errors=1), ref)).meets_targets  # a failure in one round
    assert not _row(low, high, (_sample(650, non2xx=1), ref)).meets_targets
    assert not _row(low, (_sample(550), ref), middle).meets_targets  # median 0.55

    two = _row(high, low)  # even count: the ratio is the mean of the middle two, the pair shown the lower one
    assert two.ratio == pytest.approx(0.6)
    assert two.median_pair == low

    with pytest.raises(ValueError):
        _row()
    with pytest.raises(SystemExit):
        api.parse_args(["--rounds", "0"])


def test_report_reference_is_the_median_of_every_rounds_reference() -> None:
    refs = [_sample(rps) for rps in (900, 1100, 5000)]
    rows = [_row((_sample(600), refs[0])), _row((_sample(600), refs[1]), (_sample(600), refs[2]))]
    report = api.Report(api.Options(rounds=2), "wrk", rows)
    assert rows[1].reference is refs[2]  # its lower-middle round by ratio
    assert report.reference is refs[1]  # of all three, though no row shows it
    rounds = report.to_json()["results"][1]["rounds"]
    assert [r["reference_rps"] for r in rounds] == [1100, 5000]


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
