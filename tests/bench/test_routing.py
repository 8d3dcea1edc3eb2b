"""The routing benchmark at tiny scale, against the real pgRouting: costs agree, closures are honoured."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from rich.console import Console

from bench import routing
from bench.__main__ import BENCHMARKS
from tests.services import PG_ADMIN_DSN, unavailable


async def bench_databases() -> set[str]:
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as err:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {err}")
    try:
        rows = await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'travel_bench_routing_%'")
    finally:
        await admin.close()
    return {r["datname"] for r in rows}


@pytest.mark.timeout(120)
def test_routing_bench_agrees_with_pgrouting_at_tiny_scale() -> None:
    before = asyncio.run(bench_databases())
    opts = routing.Options(sections=2000, queries=50, pg_sample=10, closures=5, alternatives=3, landmarks=8,
                           admin_dsn=PG_ADMIN_DSN)
    try:
        report = routing.run(opts, Console(stderr=True, quiet=True))
    except routing.ReferenceMissing as err:
        unavailable(str(err))
    assert asyncio.run(bench_databases()) <= before  # its throw-away database is gone

    assert len(report.reference) == 10
    assert {r["kind"] for r in report.reference} == set(routing.REFERENCE_KINDS)
    answered = [r for r in report.reference if r["pg"] is not None]
    assert answered, "pgRouting answered none of the sample: nothing was compared"
    for r in report.reference:
        assert routing._agree(r["ours"], r["pg"]), r
    assert report.agreeing == 10 and report.ok
    assert len(report.all_ms) == 50 and set(report.latency_ms) == set(routing.KINDS)
    assert report.closures and all(c["avoided"] and c["restored"] for c in report.closures)
    assert report.rss_after_build > 0 and report.build_s > 0
    Console(width=130, quiet=True).print(*routing.render(report))
    assert "routing" in BENCHMARKS


def test_cost_agreement_is_relative_and_unreachable_must_match() -> None:
    assert routing._agree(1000.0, 1000.0 * (1 + 5e-7))
    assert not routing._agree(1000.0, 1000.1)
    assert routing._agree(None, None)
    assert not routing._agree(None, 5.0) and not routing._agree(5.0, None)
