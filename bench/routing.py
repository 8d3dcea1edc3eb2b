"""Routing benchmark: the route engine on a synthetic province-size network against pgRouting.

``python -m bench routing [--sections N] [--queries 1000] [--pg-sample 50] [--no-reference]``

Builds a seeded synthetic road network of N sections over Henan (perturbed grid, local roads at
40–80 km/h, a sparse tolled expressway grid at 120 km/h, some one-way sections, some height/weight
limits), builds the engine (landmark preprocessing), then:
- latency of ``--queries`` random queries (fastest, shortest, truck with restrictions, cheapest),
- the same network loaded with COPY into a throw-away PostgreSQL database with pgRouting: on a
  sample of queries (fastest and shortest for a passenger car) ``pgr_dijkstra`` must give the same
  cost (1e-6 relative) or the same "unreachable", and the speed-up over it on that sample,
- closure → visible and clearance → visible latency on edges of real best paths.
Targets (1,000,000 sections): p50 < 5 ms, p99 < 30 ms, ≥ 50× pgRouting, preprocessing < 5 min,
RSS < 1.5 GiB, closure visible < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import asyncpg
import numpy as np
from rich.console import Console
from rich.table import Table

from bench.api import HENAN, PG_ADMIN_DSN, BenchError
from travel.routing.alternatives import alternatives
from travel.routing.engine import Route, RouteEngine
from travel.routing.graph import Sections
from travel.routing.profiles import PASSENGER_CAR, Metric, VehicleProfile

TARGET_P50_MS = 5.0
TARGET_P99_MS = 30.0
TARGET_SPEEDUP = 50.0
TARGET_BUILD_S = 300.0
TARGET_RSS_BYTES = 3 << 29  # 1.5 GiB
TARGET_CLOSURE_MS = 50.0
TOLERANCE = 1e-6
EXPRESSWAY_EVERY = 16  # every 16th grid row and column is an expressway (~13 km apart at 1M sections)
TRUCK = VehicleProfile(vehicle_class=14, max_speed_kmh=90.0, height_m=4.2, total_mass_t=40.0, axle_load_t=11.0)
TRUCK_CLASSES = frozenset(range(11, 17))  # JT/T 489 货1–货6, as this benchmark codes them
KINDS = ("fastest", "shortest", "truck", "cheapest")  # query i is of kind i % 4
REFERENCE_KINDS = ("fastest", "shortest")  # what pgr_dijkstra can price: no vehicle limits, no tolls
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, eq=False)
class Network:
    """The synthetic network: the engine's input plus what only the benchmark needs."""

    sections: Sections
    lon: np.ndarray
    lat: np.ndarray
    toll_fen: np.ndarray


def synthetic_network(count: int, seed: int = 20261124) -> Network:
    """``count`` sections on a perturbed grid over Henan: local roads, an expressway grid, one-ways, limits."""
    rng = np.random.default_rng(seed)
    side = math.isqrt(max(count, 1) // 2) + 2
    while 2 * side * (side - 1) < count:
        side += 1
    west, south, east, north = HENAN
    rr, cc = np.divmod(np.arange(side * side), side)
    lon = west + (cc + rng.uniform(-0.3, 0.3, rr.shape)) * (east - west) / (side - 1)
    lat = south + (rr + rng.uniform(-0.3, 0.3, rr.shape)) * (north - south) / (side - 1)
    lon, lat = np.clip(lon, west, east), np.clip(lat, south, north)
    node = np.arange(side * side).reshape(side, side)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    line = np.concatenate([rr.reshape(side, side)[:, :-1].ravel(), cc.reshape(side, side)[:-1, :].ravel()])
    express = line % EXPRESSWAY_EVERY == 0
    keep = np.sort(np.concatenate([np.flatnonzero(express),
                                   rng.choice(np.flatnonzero(~express), count - int(express.sum()), replace=False)]))
    a, b, express = a[keep], b[keep], express[keep]
    chord = _haversine_m(lon[a], lat[a], lon[b], lat[b])
    length = np.round(chord * np.where(express, 1.05, rng.uniform(1.02, 1.35, count)), 1)
    speed = np.where(express, 120.0, rng.choice([40.0, 60.0, 80.0], count, p=[0.3, 0.5, 0.2]))
    oneway = ~express & (rng.random(count) < 0.04)
    flip = oneway & (rng.random(count) < 0.5)
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    local = np.flatnonzero(~express)

    def limits(share: float, low: float, high: float) -> np.ndarray:
        values = np.full(count, np.nan)
        chosen = rng.choice(local, int(share * local.size), replace=False)
        values[chosen] = np.round(rng.uniform(low, high, chosen.size), 1)
        return values

    forbidden = {int(s): TRUCK_CLASSES for s in rng.choice(local, int(0.005 * local.size), replace=False)}
    sections = Sections(
        node_count=side * side, section_from=a.astype(np.int32), section_to=b.astype(np.int32), length_m=length,
        speed_kmh=speed, oneway=oneway, toll=express, expressway=express,
        max_height_m=limits(0.01, 3.2, 4.5), max_weight_t=limits(0.01, 10.0, 30.0),
        max_axle_load_t=limits(0.005, 7.0, 10.0), forbidden_classes=forbidden)
    return Network(sections, lon, lat, np.where(express, np.round(length * 0.045), 0.0))


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


# --------------------------------------------------------------------------- measuring
@dataclass(frozen=True, slots=True)
class Query:
    """One benchmark query: its kind (see KINDS) and two distinct nodes."""

    kind: str
    source: int
    target: int


@dataclass
class Report:
    """Everything one run measured; ``ok`` says whether the correctness checks held."""

    sections: int
    nodes: int
    edges: int
    warmup_s: float
    build_s: float
    rss_after_build: int
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    cpu_ms: list[float] = field(default_factory=list)  # the same queries' CPU time (this thread)
    reference: list[dict] = field(default_factory=list)  # kind, ours, pg (None: unreachable), ours_ms, pg_ms
    closures: list[dict] = field(default_factory=list)  # apply_ms, close_ms, reopen_ms, avoided, restored
    alternatives_ms: list[float] = field(default_factory=list)
    peak_rss: int = 0

    @property
    def all_ms(self) -> list[float]:
        """Every query's latency."""
        return [ms for values in self.latency_ms.values() for ms in values]

    @property
    def agreeing(self) -> int:
        """Reference queries where pgRouting and the engine agree (same cost, or both unreachable)."""
        return sum(_agree(r["ours"], r["pg"]) for r in self.reference)

    @property
    def speedup(self) -> float:
        """Total pgr_dijkstra time over total engine time, on the shared sample."""
        ours = sum(r["ours_ms"] for r in self.reference)
        return sum(r["pg_ms"] for r in self.reference) / ours if ours else 0.0

    @property
    def ok(self) -> bool:
        """Correctness: every reference query agrees, every closure was avoided and every clearance undone."""
        return self.agreeing == len(self.reference) and all(c["avoided"] and c["restored"] for c in self.closures)

    def summary(self) -> dict:
        """The machine-readable result."""
        doc = asdict(self)
        doc.pop("latency_ms")
        doc["cpu_ms"] = _quantiles(self.cpu_ms)
        doc["latency_ms"] = {kind: _quantiles(v) for kind, v in self.latency_ms.items()} | {
            "all": _quantiles(self.all_ms)}
        doc.update(agreeing=self.agreeing, speedup=self.speedup, ok=self.ok)
        return doc


def _agree(ours: float | None, pg: float | None) -> bool:
    if ours is None or pg is None:
        return ours is None and pg is None
    return abs(ours - pg) <= TOLERANCE * max(abs(ours), abs(pg), 1e-12)


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": math.nan, "p99": math.nan, "max": math.nan}
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)),
            "max": float(max(values))}


def rss_bytes(field_name: str = "VmRSS") -> int:
    """This process's resident (VmRSS) or peak resident (VmHWM) memory, from /proc (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def route(engine: RouteEngine, net: Network, query: Query) -> Route | None:
    """Run one benchmark query."""
    options: dict = {}
    if query.kind == "truck":
        options["profile"] = TRUCK
    elif query.kind == "cheapest":
        options["toll_cost"] = net.toll_fen
    metric = Metric.SHORTEST if query.kind == "shortest" else (
        Metric.CHEAPEST if query.kind == "cheapest" else Metric.FASTEST)
    return engine.route([(query.source, 0.0)], [(query.target, 0.0)], metric, options.pop("profile", PASSENGER_CAR),
                        **options)


def queries(nodes: int, count: int, seed: int) -> list[Query]:
    """``count`` random queries between distinct nodes, kinds in turn."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        s, t = (int(x) for x in rng.integers(nodes, size=2))
        if s != t:
            out.append(Query(KINDS[len(out) % len(KINDS)], s, t))
    return out


def warm_up() -> float:
    """Seconds to load (or, the first time, compile) the numba kernels: every kind on a tiny network."""
    started = time.perf_counter()
    net = synthetic_network(300)
    engine = RouteEngine(net.sections, landmarks=4)
    for q in queries(net.sections.node_count, len(KINDS), 1):
        route(engine, net, q)
    alternatives(engine, [(0, 0.0)], [(net.sections.node_count - 1, 0.0)], 2)
    return time.perf_counter() - started


def measure_closures(engine: RouteEngine, net: Network, sample: Sequence[Query], limit: int) -> list[dict]:
    """Close a section in the middle of a best path, query again; reopen it, query again — both timed."""
    out = []
    for q in sample:
        before = route(engine, net, q)
        if before is None or len(before.sections) < 3:
            continue
        sec = int(before.sections[len(before.sections) // 2])
        started = time.perf_counter()
        engine.close_sections([sec])
        apply_ms = (time.perf_counter() - started) * 1000
        after = route(engine, net, q)
        closed_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        engine.reopen_sections([sec])
        again = route(engine, net, q)
        reopen_ms = (time.perf_counter() - started) * 1000
        avoided = after is None or (sec not in after.sections.tolist() and after.weight >= before.weight)
        out.append({"apply_ms": apply_ms, "close_ms": closed_ms, "reopen_ms": reopen_ms, "avoided": avoided,
                    "restored": again is not None and again.weight == before.weight})
        if len(out) == limit:
            break
    return out


# --------------------------------------------------------------------------- pgRouting
class ReferenceMissing(BenchError):
    """pgRouting (or PostgreSQL) is not there to compare with."""


PG_EDGES_SQL = {
    "fastest": "SELECT id, source, target, cost, reverse_cost FROM edges",
    "shortest": "SELECT id, source, target, len AS cost, len_reverse AS reverse_cost FROM edges",
}
PG_QUERY = "SELECT agg_cost FROM pgr_dijkstra($1, $2::bigint, $3::bigint, true) WHERE edge = -1"
COPY_CHUNK = 50_000


def _edge_records(net: Network) -> Iterator[tuple]:
    """pgRouting's edge rows, priced exactly as the engine prices a passenger car (ids and nodes 1-based)."""
    s = net.sections
    seconds = s.length_m * 3.6 / np.minimum(s.speed_kmh, PASSENGER_CAR.max_speed_kmh)
    reverse = np.where(s.oneway, -1.0, seconds)
    length_reverse = np.where(s.oneway, -1.0, s.length_m)
    for lo in range(0, s.count, COPY_CHUNK):
        part = slice(lo, lo + COPY_CHUNK)
        yield from zip(range(lo + 1, lo + 1 + len(seconds[part])), (s.section_from[part] + 1).tolist(),
                       (s.section_to[part] + 1).tolist(), seconds[part].tolist(), reverse[part].tolist(),
                       s.length_m[part].tolist(), length_reverse[part].tolist(), strict=True)


async def pg_reference(net: Network, sample: Sequence[Query], admin_dsn: str, console: Console) -> list[dict]:
    """Load the network into a throw-away database with pgRouting and time ``pgr_dijkstra`` on each query."""
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as err:
        raise ReferenceMissing(f"PostgreSQL is not reachable at {admin_dsn}: {err} (set TRAVEL_BENCH_PG)") from err
    name = f"travel_bench_routing_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + f"/{name}")
        try:
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting CASCADE")
            except asyncpg.PostgresError as err:
                raise ReferenceMissing(f"pgRouting is not installed in PostgreSQL ({err}); install it "
                                       "(Debian: postgresql-15-pgrouting) or pass --no-reference") from err
            await conn.execute("CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8, "
                               "reverse_cost float8, len float8, len_reverse float8)")
            started = time.perf_counter()
            await conn.copy_records_to_table("edges", records=_edge_records(net))
            console.print(f"pgRouting: loaded {net.sections.count:,} edges in {time.perf_counter() - started:.1f} s")
            rows = []
            for i, q in enumerate(sample):
                started = time.perf_counter()
                cost = await conn.fetchval(PG_QUERY, PG_EDGES_SQL[q.kind], q.source + 1, q.target + 1)
                rows.append({"kind": q.kind, "pg": cost, "pg_ms": (time.perf_counter() - started) * 1000})
                if (i + 1) % 10 == 0:
                    console.print(f"pgRouting: {i + 1}/{len(sample)} queries")
            return rows
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# --------------------------------------------------------------------------- the run
@dataclass(frozen=True, slots=True)
class Options:
    """What to run."""

    sections: int = 1_000_000
    queries: int = 1000
    pg_sample: int = 50
    reference: bool = True
    closures: int = 20
    alternatives: int = 20
    landmarks: int = 16
    seed: int = 20261124
    admin_dsn: str = PG_ADMIN_DSN


def run(opts: Options, console: Console) -> Report:
    """Build, query, compare with pgRouting, close and reopen sections; the measurements."""
    warmup_s = warm_up()
    console.print(f"numba kernels ready in {warmup_s:.1f} s")
    started = time.perf_counter()
    net = synthetic_network(opts.sections, opts.seed)
    console.print(f"generated {opts.sections:,} sections in {time.perf_counter() - started:.1f} s")
    engine = RouteEngine(net.sections, landmarks=opts.landmarks)
    report = Report(sections=net.sections.count, nodes=engine.graph.node_count, edges=engine.graph.edge_count,
                    warmup_s=warmup_s, build_s=engine.build_seconds, rss_after_build=rss_bytes())
    console.print(f"engine built in {engine.build_seconds:.1f} s, RSS {report.rss_after_build / 2**20:,.0f} MiB")
    started = time.perf_counter()
    engine.cheapest_bounds(net.toll_fen)  # once per vehicle class and tariff period, before the first such query
    console.print(f"cheapest-route table built in {time.perf_counter() - started:.1f} s")
    sample = queries(engine.graph.node_count, opts.queries, opts.seed + 1)
    answers = []
    for q in sample:
        started, cpu = time.perf_counter(), time.thread_time()
        found = route(engine, net, q)
        report.latency_ms.setdefault(q.kind, []).append((time.perf_counter() - started) * 1000)
        report.cpu_ms.append((time.thread_time() - cpu) * 1000)
        answers.append(found)
    if opts.reference:
        shared = [(q, a, ms) for q, a, ms in zip(sample, answers, _latencies(report, sample), strict=True)
                  if q.kind in REFERENCE_KINDS][:opts.pg_sample]
        rows = asyncio.run(pg_reference(net, [q for q, _, _ in shared], opts.admin_dsn, console))
        for row, (_, found, ms) in zip(rows, shared, strict=True):
            row.update(ours=None if found is None else found.cost, ours_ms=ms)
        report.reference = rows
    report.closures = measure_closures(engine, net, [q for q in sample if q.kind == "fastest"], opts.closures)
    for q in [q for q in sample if q.kind == "fastest"][:opts.alternatives]:
        started = time.perf_counter()
        alternatives(engine, [(q.source, 0.0)], [(q.target, 0.0)], 3)
        report.alternatives_ms.append((time.perf_counter() - started) * 1000)
    report.peak_rss = rss_bytes("VmHWM")
    return report


def _latencies(report: Report, sample: Sequence[Query]) -> list[float]:
    """Each query's latency in the order of ``sample`` (the report keeps them by kind)."""
    seen: dict[str, int] = {}
    out = []
    for q in sample:
        out.append(report.latency_ms[q.kind][seen.get(q.kind, 0)])
        seen[q.kind] = seen.get(q.kind, 0) + 1
    return out


# --------------------------------------------------------------------------- the report
def render(report: Report) -> list[Table]:
    """The engine's numbers against the targets, and the side-by-side comparison with pgRouting."""
    main = Table(title=f"route engine, synthetic network: {report.sections:,} sections, {report.edges:,} edges")
    for name in ("measure", "value", "target", "ok"):
        main.add_column(name, justify="left" if name == "measure" else "right")

    def row(measure: str, value: float, unit: str, target: float | None, below: bool = True) -> None:
        ok = "" if target is None else ("yes" if (value < target if below else value >= target) else "NO")
        main.add_row(measure, f"{value:,.2f} {unit}", "" if target is None else f"{'<' if below else '≥'} {target:g}",
                     ok)

    row("numba kernels load (first run: compile)", report.warmup_s, "s", None)
    row("preprocessing (graph + landmarks)", report.build_s, "s", TARGET_BUILD_S)
    row("RSS after build", report.rss_after_build / 2**20, "MiB", TARGET_RSS_BYTES / 2**20)
    row("peak RSS (whole run, incl. COPY)", report.peak_rss / 2**20, "MiB", None)
    every = _quantiles(report.all_ms)
    row(f"query p50, all {len(report.all_ms):,}", every["p50"], "ms", TARGET_P50_MS)
    row(f"query p99, all {len(report.all_ms):,}", every["p99"], "ms", TARGET_P99_MS)
    if report.latency_ms.get("cheapest"):
        cheapest = report.latency_ms["cheapest"]
        row(f"cheapest-route p99, {len(cheapest):,}", _quantiles(cheapest)["p99"], "ms", TARGET_P99_MS)
    cpu = _quantiles(report.cpu_ms)
    main.add_row("  CPU time per query (busy machine: wall > CPU): p50 / p99",
                 f"{cpu['p50']:.2f} / {cpu['p99']:.2f} ms", "", "")
    for kind, values in report.latency_ms.items():
        q = _quantiles(values)
        main.add_row(f"  {kind} ({len(values)}): p50 / p99 / max",
                     f"{q['p50']:.2f} / {q['p99']:.2f} / {q['max']:.2f} ms", "", "")
    if report.closures:
        close = _quantiles([c["close_ms"] for c in report.closures])
        reopen = _quantiles([c["reopen_ms"] for c in report.closures])
        applied = _quantiles([c["apply_ms"] for c in report.closures])
        main.add_row("  closing a section (the array write alone), max", f"{applied['max'] * 1000:.1f} µs", "", "")
        row(f"closure → next answer avoids it, max of {len(report.closures)}", close["max"], "ms", TARGET_CLOSURE_MS)
        main.add_row("  p50", f"{close['p50']:.2f} ms", "", "")
        row(f"clearance → next answer restored, max of {len(report.closures)}", reopen["max"], "ms", TARGET_CLOSURE_MS)
        main.add_row("  p50", f"{reopen['p50']:.2f} ms", "", "")
        main.add_row("  closures avoided / clearances restored",
                     f"{sum(c['avoided'] for c in report.closures)} / {sum(c['restored'] for c in report.closures)}",
                     f"{len(report.closures)}", "yes" if report.ok or not report.reference else "")
    if report.alternatives_ms:
        row("3 alternatives (penalty method), p50", _quantiles(report.alternatives_ms)["p50"], "ms", None)
    tables = [main]
    if report.reference:
        ref = Table(title="against pgRouting pgr_dijkstra (same queries; it rebuilds its graph from SQL per query)")
        for name in ("kind", "queries", "same cost", "unreachable", "engine mean ms", "pgr_dijkstra mean ms",
                     "speed-up", "target"):
            ref.add_column(name, justify="left" if name == "kind" else "right")
        for kind in REFERENCE_KINDS:
            rows = [r for r in report.reference if r["kind"] == kind]
            if rows:
                ours = statistics.fmean(r["ours_ms"] for r in rows)
                pg = statistics.fmean(r["pg_ms"] for r in rows)
                ref.add_row(kind, str(len(rows)), f"{sum(_agree(r['ours'], r['pg']) for r in rows)}/{len(rows)}",
                            str(sum(r["pg"] is None for r in rows)), f"{ours:.2f}", f"{pg:,.1f}", f"{pg / ours:,.0f}×",
                            "")
        verdict = "yes" if report.speedup >= TARGET_SPEEDUP else "NO"
        ref.add_row("all", str(len(report.reference)), f"{report.agreeing}/{len(report.reference)}", "", "", "",
                    f"{report.speedup:,.0f}×", f"≥ {TARGET_SPEEDUP:g}× {verdict}")
        tables.append(ref)
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench routing``: 0 when the engine agreed with pgRouting and honoured every closure."""
    p = argparse.ArgumentParser(prog="python -m bench routing", description=__doc__.split("\n\n")[0])
    p.add_argument("--sections", type=int, default=1_000_000, help="synthetic road sections (default 1000000)")
    p.add_argument("--queries", type=int, default=1000, help="engine queries timed (default 1000)")
    p.add_argument("--pg-sample", type=int, default=50, help="queries also asked of pgRouting (default 50)")
    p.add_argument("--no-reference", action="store_true", help="run without PostgreSQL/pgRouting (no comparison)")
    p.add_argument("--landmarks", type=int, default=16, help="landmarks (default 16)")
    p.add_argument("--json", action="store_true", help="also print the machine-readable result as JSON")
    args = p.parse_args(argv)
    if args.sections < 100 or args.queries < 1 or args.pg_sample < 1:
        p.error("--sections must be at least 100, --queries and --pg-sample at least 1")
    console = Console(stderr=True)
    opts = Options(sections=args.sections, queries=args.queries, pg_sample=args.pg_sample,
                   reference=not args.no_reference, landmarks=args.landmarks)
    try:
        report = run(opts, console)
    except BenchError as err:
        console.print(f"[red]bench routing: {err}")
        return 2
    out = Console(width=max(Console().width, 130))
    for table in render(report):
        out.print(table)
    if args.json:
        print(json.dumps(report.summary(), indent=2))
    if not report.ok:
        console.print("[red]bench routing: the engine disagreed with pgRouting or ignored a closure (see tables)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
