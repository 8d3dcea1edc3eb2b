"""The toll benchmark's machinery at tiny scale: questions, the in-process timing, and a full run."""

from __future__ import annotations

import random

import pytest
from rich.console import Console

from bench import tolls


def test_questions_are_distinct_and_pinned_or_not_as_asked() -> None:
    book, _ = tolls._book()
    pinned = tolls._questions(book, random.Random(1), 300)
    now = tolls._questions(book, random.Random(1), 300, at=False)
    assert len({tuple(sorted(q.items())) for q in pinned}) == 300
    assert all(q["at"] == tolls.AT for q in pinned) and not any("at" in q for q in now)


def test_compute_times_price_every_question_cold_and_warm() -> None:
    book, routes = tolls._book()
    cold, warm = tolls.compute_times(book, routes, tolls._questions(book, random.Random(2), 40))
    assert len(cold) == len(warm) >= 38 and all(t > 0 for t in cold)
    assert sorted(warm)[len(warm) // 2] < sorted(cold)[len(cold) // 2]


@pytest.mark.timeout(180)
def test_the_bench_runs_every_row_at_tiny_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tolls, "MIXES", {name: (50, at) for name, (_, at) in tolls.MIXES.items()})
    opts = tolls.parse_args(["--duration", "1", "--warmup", "0", "--connections", "4", "--compute-samples", "20"])
    table = tolls.run(opts, Console(stderr=True, quiet=True))
    assert table.row_count == 1 + len(tolls.MIXES) + 2
    assert all(cell != "0" for cell in list(table.columns[1].cells)[:1 + len(tolls.MIXES)])  # every row served
    assert list(table.columns[4].cells)[:1 + len(tolls.MIXES)] == ["0"] * (1 + len(tolls.MIXES))  # no errors
