"""The import benchmark's machinery at tiny scale: generation, a child import, the report."""

from __future__ import annotations

import pytest
from rich.console import Console

from bench import imports
from bench.__main__ import BENCHMARKS


@pytest.mark.timeout(60)
def test_import_bench_runs_at_tiny_scale() -> None:
    [result] = imports.run(2000, ["embedded"], Console(stderr=True, quiet=True))
    assert (result.backend, result.sections) == ("embedded", 2000)
    assert result.seconds > 0 and result.rate > 0 and result.peak_rss_bytes > 0
    assert result.cpu_seconds > 0 and result.load >= 0
    Console(width=120, quiet=True).print(imports.render([result]))
    assert "imports" in BENCHMARKS
