"""API benchmark: the read endpoints against a bare aiohttp handler, each served by its own process.

``python -m bench api`` seeds synthetic POIs and events into a throw-away store (embedded and/or
PostGIS), serves it with ``travel serve`` and measures ``/v1/pois?near=…`` and ``/v1/events?bbox=…``
with wrk (or a Python fallback generator), and measures a bare aiohttp app returning a constant
~2 KB JSON document the same way right before each of them, and reports requests/s, p50/p99 latency
and the ratio of each endpoint to the reference measured next to it: on shared machines the load of
other processes drifts, and a reference measured once, minutes earlier, would skew every ratio.

Even an adjacent pair moves by 10-15 % from one run to the next on a small shared VM, so a single pair
gives a verdict that flips. Each row is therefore ``--rounds`` pairs (default 3), interleaved: round
after round, every endpoint in turn, each right after its own reference, so drift falls on all rows
alike. A row's ratio is the median of its rounds' ratios, and its req/s, p50 and CPU columns are the
median round's (a real measured pair, not a blend). Latency is judged the same way, on the median
of the rounds' p99 (the worst round's is shown beside it); a failed request in any round fails the row.

``python -m bench.api reference|load …`` are the helper processes the benchmark starts itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from rich.console import Console
from rich.table import Table

from travel.core.geometry import Geometry
from travel.core.records import Direction, EventType, Poi, PoiKind, Record, RoadEvent, Severity
from travel.core.settings import Settings
from travel.ingest.commit import commit
from travel.store import make_store
from travel.store.bus import InProcessBus

ROOT = Path(__file__).resolve().parents[1]
WRK_SCRIPT = Path(__file__).with_name("wrk_paths.lua")
PG_ADMIN_DSN = os.environ.get("TRAVEL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HENAN = (110.4, 31.4, 116.6, 36.3)  # west, south, east, north
ROADS = ("G4", "G30", "G45", "G55", "G36", "G40", "G107", "G310", "S83", "S85")
STORES = {"embedded": ("embedded",), "postgis": ("postgis",), "both": ("embedded", "postgis")}
# Distinct random queries per endpoint; a 10 s row sends each ~7 times, so a response cache (there is
# none) would serve most of them: numbers measure the handlers only while none exists.
QUERIES_PER_ENDPOINT = 10_000
REFERENCE_BYTES = 2048
RESULT_TAG = "BENCH-RESULT "
TARGET_RATIO = 0.60
TARGET_P99_MS = 25.0
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 5.0
WRK_MISSING = (
    "wrk not found: install it for accurate numbers (Debian/Ubuntu: apt-get install wrk). "
    "Falling back to the Python generator, which is LESS ACCURATE: it shares the CPUs with the server."
)


class BenchError(Exception):
    """The benchmark cannot run or a step of it failed; the message says which."""


@dataclass(frozen=True, slots=True)
class Options:
    """What to measure and how."""

    store: str = "both"
    connections: int = 64
    duration: int = 10
    threads: int = 1
    warmup: int = 2
    rounds: int = 3
    pois: int = 5000
    events: int = 2000
    radius_m: float = 10_000.0
    box_deg: float = 0.3
    generator: str = "auto"
    log_level: str = "INFO"
    seed: int = 1
    json: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    """What one load-generator run saw."""

    requests: int
    duration_s: float
    bytes: int
    p50_ms: float
    p99_ms: float
    non2xx: int  # failed responses: wrk counts status >= 400, the Python generator anything but 2xx
    errors: int
    server_cpu_s: float = math.nan

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU time per request: unlike req/s, not skewed by other load on the machine."""
        return self.server_cpu_s / self.requests * 1e6 if self.requests else math.nan

    @property
    def cpu_percent(self) -> float:
        """Share of one core the server used; well below 100 means it was starved or not saturated."""
        return self.server_cpu_s / self.duration_s * 100 if self.duration_s > 0 else math.nan


Pair = tuple[Sample, Sample]  # (endpoint sample, the reference measured right before it)


def pair_ratio(pair: Pair) -> float:
    """The endpoint's requests/s as a share of its adjacent reference's."""
    sample, reference = pair
    return sample.rps / reference.rps if reference.rps else 0.0


@dataclass(frozen=True, slots=True)
class Row:
    """One endpoint of one backend: every round's pair of it and the reference measured just before it."""

    backend: str
    endpoint: str
    pairs: tuple[Pair, ...]  # in measurement order

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ValueError("a row needs at least one round")

    @property
    def ratios(self) -> tuple[float, ...]:
        """Each round's ratio, in measurement order."""
        return tuple(pair_ratio(p) for p in self.pairs)

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios: one round disturbed by other load cannot swing it."""
        return statistics.median(self.ratios)

    @property
    def median_pair(self) -> Pair:
        """The round whose ratio is the median; for an even count the lower-middle one (a real pair, not a mean)."""
        ordered = sorted(self.pairs, key=pair_ratio)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def sample(self) -> Sample:
        """The median round's endpoint sample."""
        return self.median_pair[0]

    @property
    def reference(self) -> Sample:
        """The median round's reference sample."""
        return self.median_pair[1]

    @property
    def p99_ms(self) -> float:
        """The median of the rounds' p99: like the ratio, not swung by one round disturbed by other load."""
        return statistics.median(s.p99_ms for s, _ in self.pairs)

    @property
    def worst_p99_ms(self) -> float:
        """The highest p99 of any round, shown beside the median."""
        return max(s.p99_ms for s, _ in self.pairs)

    @property
    def non2xx(self) -> int:
        """Failed responses over all rounds."""
        return sum(s.non2xx for s, _ in self.pairs)

    @property
    def errors(self) -> int:
        """Connection errors and timeouts over all rounds."""
        return sum(s.errors for s, _ in self.pairs)

    @property
    def meets_targets(self) -> bool:
        """Median ratio and median p99 within target, and no failed request in any round."""
        return self.ratio >= TARGET_RATIO and self.p99_ms < TARGET_P99_MS and self.non2xx == 0 and self.errors == 0


@dataclass(frozen=True, slots=True)
class Report:
    """A whole run: settings and every row (each with its own reference measurement)."""

    options: Options
    generator: str
    rows: list[Row]

    @property
    def reference(self) -> Sample:
        """The median (by requests/s) of all reference measurements, every round's, for display."""
        samples = sorted((ref for row in self.rows for _, ref in row.pairs), key=lambda s: s.rps)
        return samples[len(samples) // 2]

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form (``--json``): a result's sample fields are its median round's (p99: the rounds'
        median); "rounds" has every round's."""

        def sample(s: Sample) -> dict[str, Any]:
            return {**asdict(s), "rps": round(s.rps, 1), "cpu_us_per_request": round(s.cpu_us_per_request, 1)}

        return {
            "generator": self.generator,
            "options": asdict(self.options),
            "targets": {"ratio_min": TARGET_RATIO, "p99_ms_max": TARGET_P99_MS},
            "reference": sample(self.reference),
            "results": [
                {"backend": r.backend, "endpoint": r.endpoint, **sample(r.sample), "ratio": round(r.ratio, 3),
                 "p99_ms": r.p99_ms, "worst_p99_ms": r.worst_p99_ms,
                 "reference_rps": round(r.reference.rps, 1),
                 "cpu_ratio": round(r.reference.cpu_us_per_request / r.sample.cpu_us_per_request, 3),
                 "meets_targets": r.meets_targets,
                 "rounds": [{"ratio": round(ratio, 3), "rps": round(s.rps, 1),
                             "reference_rps": round(ref.rps, 1), "p99_ms": s.p99_ms, "non2xx": s.non2xx,
                             "errors": s.errors}
                            for (s, ref), ratio in zip(r.pairs, r.ratios, strict=True)]}
                for r in self.rows
            ],
        }


# --------------------------------------------------------------------------- data and queries
def synthetic_records(rng: random.Random, pois: int, events: int) -> list[Record]:
    """``pois`` POIs and ``events`` active road events at random points inside Henan."""
    west, south, east, north = HENAN
    now = datetime.now(UTC).replace(microsecond=0)

    def point() -> Geometry:
        return Geometry.point(round(rng.uniform(west, east), 6), round(rng.uniform(south, north), 6))

    records: list[Record] = [
        Poi(id=f"bench:poi-{i}", source="bench", source_id=f"poi-{i}", version=1, updated_at=now,
            poi_kind=rng.choice(list(PoiKind)), name=f"基准测试{i}号服务设施", road=rng.choice(ROADS),
            stake_m=round(rng.uniform(0, 900_000)), address=f"河南省测试市测试路{i}号", geometry=point())
        for i in range(pois)
    ]
    records += [
        RoadEvent(id=f"bench:event-{i}", source="bench", source_id=f"event-{i}", version=1,
                  updated_at=now - timedelta(minutes=rng.randrange(10_000)), type=rng.choice(list(EventType)),
                  severity=rng.choice(list(Severity)), road=rng.choice(ROADS), direction=rng.choice(list(Direction)),
                  start_stake_m=round(rng.uniform(0, 900_000)), start_time=now - timedelta(hours=1),
                  description=f"基准测试事件{i}：施工占用应急车道，请减速慢行", geometry=point())
        for i in range(events)
    ]
    return records


def write_queries(workdir: Path, rng: random.Random, opts: Options) -> dict[str, Path]:
    """A file of request paths per endpoint: random points (pois) and boxes (events) inside Henan."""
    west, south, east, north = HENAN
    pois = [
        f"/v1/pois?near={rng.uniform(west, east):.5f},{rng.uniform(south, north):.5f}&radius_m={opts.radius_m:g}"
        for _ in range(QUERIES_PER_ENDPOINT)
    ]
    events = []
    for _ in range(QUERIES_PER_ENDPOINT):
        w, s = rng.uniform(west, east - opts.box_deg), rng.uniform(south, north - opts.box_deg)
        events.append(f"/v1/events?bbox={w:.4f},{s:.4f},{w + opts.box_deg:.4f},{s + opts.box_deg:.4f}")
    files = {
        f"pois near, r={opts.radius_m / 1000:g} km": (workdir / "pois.paths", pois),
        f"events bbox {opts.box_deg:g}°": (workdir / "events.paths", events),
    }
    for path, lines in files.values():
        path.write_text("\n".join(lines) + "\n")
    return {endpoint: path for endpoint, (path, _) in files.items()}


# --------------------------------------------------------------------------- stores
async def _seed(settings: Settings, records: Sequence[Record]) -> None:
    """Commit ``records`` through the project's store and ``travel.ingest.commit``."""
    store, bus = make_store(settings), InProcessBus()
    await store.open()
    await bus.start()
    try:
        await commit(store, bus, records)
    finally:
        await bus.stop()
        await store.close()


async def _execute(dsn: str, sql: str) -> None:
    """Run one statement on its own connection."""
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as err:
        raise BenchError(
            f"PostgreSQL is not reachable at {dsn}: {err} (set TRAVEL_BENCH_PG, or use --store embedded)"
        ) from err
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def postgis_database(admin_dsn: str = PG_ADMIN_DSN) -> Iterator[str]:
    """Create a throw-away database with PostGIS, yield its DSN, drop it afterwards."""
    name = f"travel_bench_{secrets.token_hex(6)}"
    asyncio.run(_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
        asyncio.run(_execute(dsn, "CREATE EXTENSION IF NOT EXISTS postgis"))
        yield dsn
    finally:
        asyncio.run(_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def seeded_backend(store: str, workdir: Path, records: Sequence[Record]) -> Iterator[dict[str, str]]:
    """Seed a fresh store of kind ``store``; yield the environment that points ``travel serve`` at it."""
    with ExitStack() as stack:
        env = {"TRAVEL_DATA_DIR": str(workdir / store)}
        if store == "postgis":
            env["DATABASE_URL"] = stack.enter_context(postgis_database())
        settings = Settings(database_url=env.get("DATABASE_URL"), data_dir=workdir / store, load_geodata=False)
        asyncio.run(_seed(settings, records))
        yield env


# --------------------------------------------------------------------------- server processes
def free_port() -> int:
    """A currently free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(opts: Options, extra: dict[str, str]) -> dict[str, str]:
    """This environment without travel settings, plus the benchmark's and ``extra``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("TRAVEL_") and k not in ("DATABASE_URL", "REDIS_URL")}
    return base | {"TRAVEL_LOAD_GEODATA": "false", "TRAVEL_LOG_LEVEL": opts.log_level} | extra


def _tail(log: Path, lines: int = 15) -> str:
    """The end of a server log, for error messages."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll ``url`` until it answers 200, the process exits, or READY_TIMEOUT_S passes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode} before it was ready:\n{_tail(log)}")
        try:
            with opener.open(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{url} not ready within {READY_TIMEOUT_S:g} s:\n{_tail(log)}")


@dataclass(frozen=True, slots=True)
class Server:
    """A running server process and its base URL."""

    base: str
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds the process has used so far (Linux /proc; NaN elsewhere)."""
        stat = Path(f"/proc/{self.pid}/stat")
        if not stat.exists():
            return math.nan
        fields = stat.read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(argv: Sequence[str], env: dict[str, str], ready_path: str, log: Path) -> Iterator[Server]:
    """Run ``argv --port N`` on a free loopback port until ``ready_path`` answers 200."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([*argv, "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        server = Server(f"http://127.0.0.1:{port}", proc.pid)
        _wait_ready(proc, server.base + ready_path, log)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- load generators
Load = Callable[[str, Path, Options, int], Sample]


def _collect(argv: Sequence[str], timeout: float) -> Sample:
    """Run a generator process and parse its result line."""
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"load generator did not finish within {timeout:g} s: {' '.join(argv)}") from err
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return Sample(**json.loads(line.removeprefix(RESULT_TAG)))
    raise BenchError(f"load generator printed no result (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def wrk_load(base: str, paths: Path, opts: Options, duration: int) -> Sample:
    """Run wrk with the paths script."""
    argv = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{duration}s",
            f"--timeout={REQUEST_TIMEOUT_S:g}s", "-s", str(WRK_SCRIPT), base, "--", str(paths), str(opts.seed)]
    return _collect(argv, duration + 30)


def python_load(base: str, paths: Path, opts: Options, duration: int) -> Sample:
    """Run the aiohttp-client generator in its own process (less accurate than wrk)."""
    argv = [sys.executable, "-m", "bench.api", "load", base, str(paths), "--connections", str(opts.connections),
            "--duration", str(duration), "--seed", str(opts.seed)]
    return _collect(argv, duration + 30)


def pick_generator(choice: str, console: Console) -> tuple[str, Load]:
    """wrk when asked for or available, else the Python generator (saying why)."""
    if choice == "python":
        return "python (less accurate)", python_load
    if shutil.which("wrk"):
        return "wrk", wrk_load
    if choice == "wrk":
        raise BenchError("wrk not found: install it (Debian/Ubuntu: apt-get install wrk)")
    console.print(f"[yellow]{WRK_MISSING}")
    return "python (less accurate)", python_load


def prime(server: Server, queries: dict[str, Path]) -> None:
    """One request per endpoint before anything is measured, whatever ``--warmup`` says.

    The first query of a fresh server pays one-off costs: numba loads its cached kernels (~0.3 s), or,
    after their source changed or on a fresh checkout, compiles them (seconds). That is start-up, not
    throughput; left in, it empties a short first round (``--warmup 0``) or outlasts the warm-up and
    fails the first round's p99, and so the row. Best effort: a failing endpoint is the measurement's to
    report.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for paths in queries.values():
        with paths.open() as lines:
            path = lines.readline().strip()
        with suppress(OSError), opener.open(server.base + path, timeout=READY_TIMEOUT_S) as resp:
            resp.read()


def measure(load: Load, server: Server, paths: Path, opts: Options, *, warmup: bool = True) -> Sample:
    """Warm up (unless told not to), then measure, noting the server's CPU time."""
    if opts.warmup and warmup:
        load(server.base, paths, opts, opts.warmup)
    cpu = server.cpu_s()
    sample = load(server.base, paths, opts, opts.duration)
    return replace(sample, server_cpu_s=server.cpu_s() - cpu)


# --------------------------------------------------------------------------- the run
def run(opts: Options, console: Console) -> Report:
    """Seed the stores, then measure every backend's endpoints in interleaved rounds, each after the reference."""
    generator, load = pick_generator(opts.generator, console)
    rng = random.Random(opts.seed)
    records = synthetic_records(rng, opts.pois, opts.events)
    with tempfile.TemporaryDirectory(prefix="travel-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        queries = write_queries(workdir, rng, opts)
        envs = {}
        for store in STORES[opts.store]:
            console.print(f"seeding {opts.pois} POIs and {opts.events} events into the {store} store …")
            envs[store] = stack.enter_context(seeded_backend(store, workdir, records))
        reference_argv = [sys.executable, "-m", "bench.api", "reference"]
        bare = stack.enter_context(serving(reference_argv, server_env(opts, {}), "/", workdir / "reference.log"))
        rows: list[Row] = []
        travel_argv = [sys.executable, "-m", "travel", "serve", "--host", "127.0.0.1"]
        first = True
        for store, env in envs.items():
            with serving(travel_argv, server_env(opts, env), "/readyz", workdir / f"{store}.log") as server:
                prime(server, queries)
                # Round by round, every endpoint in turn, so that drift in the machine's load falls on all rows
                # alike rather than on whichever endpoint happened to be measured during it.
                pairs: dict[str, list[Pair]] = {endpoint: [] for endpoint in queries}
                for round_ in range(1, opts.rounds + 1):
                    for endpoint, paths in queries.items():
                        console.print(f"round {round_}/{opts.rounds}: measuring the bare aiohttp handler, then "
                                      f"{store} {endpoint}, with {generator} …")
                        reference = measure(load, bare, paths, opts, warmup=first)
                        first = False
                        # The endpoint warms up every round: since its last measurement the other endpoint's
                        # queries have run, so its code and data are no longer hot; warming each time keeps the
                        # rounds alike, which the median assumes, at the price of a few seconds per round.
                        sample = measure(load, server, paths, opts)
                        pairs[endpoint].append((sample, reference))
                rows += [Row(store, endpoint, tuple(p)) for endpoint, p in pairs.items()]
    return Report(opts, generator, rows)


def render(report: Report) -> Table:
    """The results as a rich table."""
    o = report.options
    table = Table(
        title=f"API benchmark: {report.generator}, {o.connections} connections, {o.rounds} × {o.duration} s, "
              f"{o.threads} thread(s), {o.pois} POIs, {o.events} events, log level {o.log_level}",
        caption=f"ratio = the median of {o.rounds} interleaved rounds' req/s ÷ ref req/s, each against the bare "
                f"handler measured right before it (ratios: every round's, in order; the reference row is the median "
                f"of all reference measurements). req/s, p50, CPU and ref req/s are the median round's (for an even "
                f"count the lower-middle); p99 is the rounds' median (worst round's in brackets), non-2xx and errors "
                f"all rounds' sum. Target: ratio ≥ {TARGET_RATIO:.2f}, p99 < {TARGET_P99_MS:g} ms, no failed request "
                "in any round. "
                "CPU: the server process's, per request and as % of one core (under 100: starved by other load, or "
                "not saturated).",
    )
    table.add_column("backend")
    table.add_column("endpoint")
    for name in ("req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "KB/resp", "CPU µs/req", "CPU %", "ref req/s",
                 "ratios", "ratio"):
        # one line per row, however many rounds
        table.add_column(name, justify="right", no_wrap=name in ("ratios", "p99 ms"))
    table.add_column("target")

    def cells(s: Sample, p99: str, non2xx: int, errors: int) -> list[str]:
        kb = s.bytes / s.requests / 1024 if s.requests else 0.0
        return [f"{s.rps:,.0f}", f"{s.p50_ms:.2f}", p99, str(non2xx), str(errors), f"{kb:.1f}",
                f"{s.cpu_us_per_request:.0f}", f"{s.cpu_percent:.0f}"]

    ref = report.reference
    table.add_row("reference", "bare aiohttp", *cells(ref, f"{ref.p99_ms:.2f}", ref.non2xx, ref.errors),
                  "", "", "1.00", "")
    for row in report.rows:
        verdict = "[green]met" if row.meets_targets else "[red]missed"
        p99 = f"{row.p99_ms:.2f} ({row.worst_p99_ms:.1f})"
        table.add_row(row.backend, row.endpoint, *cells(row.sample, p99, row.non2xx, row.errors),
                      f"{row.reference.rps:,.0f}", " ".join(f"{r:.2f}" for r in row.ratios), f"{row.ratio:.2f}",
                      verdict)
    return table


def parse_args(argv: Sequence[str] | None) -> Options:
    """Options from the command line."""
    p = argparse.ArgumentParser(prog="python -m bench api", description=__doc__.split("\n\n")[0])
    p.add_argument("--store", choices=sorted(STORES), default="both", help="backend(s) to measure (default both)")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint and round (default 10)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved reference-then-endpoint pairs per endpoint; the ratio is their median (default 3)")
    p.add_argument("--pois", type=int, default=5000, help="synthetic POIs (default 5000)")
    p.add_argument("--events", type=int, default=2000, help="synthetic active events (default 2000)")
    p.add_argument("--radius-m", type=float, default=10_000.0, help="radius of POI queries (default 10000)")
    p.add_argument("--box-deg", type=float, default=0.3, help="side of event query boxes (default 0.3)")
    p.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                   help="load generator (default auto: wrk if installed)")
    p.add_argument("--log-level", default="INFO", help="TRAVEL_LOG_LEVEL of both servers; INFO logs access lines")
    p.add_argument("--seed", type=int, default=1, help="random seed of data and queries")
    p.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    opts = Options(**vars(p.parse_args(argv)))
    if opts.connections < opts.threads:
        p.error("--connections must be at least --threads")
    if opts.rounds < 1:
        p.error("--rounds must be at least 1")
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench api``."""
    opts = parse_args(argv)
    console = Console(stderr=True)
    try:
        report = run(opts, console)
    except BenchError as err:
        console.print(f"[red]bench api: {err}")
        return 2
    if opts.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        Console(width=max(Console().width, 160)).print(render(report))  # the table needs ~156 columns unwrapped
    return 0


# --------------------------------------------------------------------------- helper processes
def reference_body(size: int = REFERENCE_BYTES) -> bytes:
    """A constant FeatureCollection-shaped JSON document of about ``size`` bytes."""
    feature = {"type": "Feature", "id": "ref:0", "geometry": {"type": "Point", "coordinates": [113.65, 34.76]},
               "properties": {"name": "参考服务区", "poi_kind": "service_area", "road": "G4", "active": True}}
    features = []
    while len(orjson.dumps(features)) < size - 80:
        features.append(feature)
    return orjson.dumps({"type": "FeatureCollection", "count": len(features), "features": features})


def serve_reference(port: int) -> None:
    """A bare aiohttp app answering every GET with the constant document, logged like ``travel serve``."""
    from aiohttp import web

    from api.access_log import JsonAccessLogger
    from travel.core.logs import configure_logging

    body = reference_body()

    async def constant(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", constant)
    configure_logging(Settings().log_level)
    web.run_app(app, host="127.0.0.1", port=port, access_log_class=JsonAccessLogger, print=None)


async def python_generator(base: str, paths: list[str], connections: int, duration: float, seed: int) -> Sample:
    """GET random ``paths`` over ``connections`` keep-alive connections for ``duration`` seconds."""
    import aiohttp

    rng, latencies, tally = random.Random(seed), [], {"non2xx": 0, "errors": 0, "bytes": 0}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        while loop.time() < deadline:
            started = time.perf_counter()
            try:
                async with session.get(rng.choice(paths)) as resp:
                    body = await resp.read()
            except (aiohttp.ClientError, TimeoutError):
                tally["errors"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            tally["bytes"] += len(body)
            tally["non2xx"] += not 200 <= resp.status < 300

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    start = loop.time()
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    elapsed = loop.time() - start
    latencies.sort()

    def percentile_ms(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return Sample(requests=len(latencies), duration_s=elapsed, p50_ms=percentile_ms(0.50),
                  p99_ms=percentile_ms(0.99), **tally)


def helper(argv: Sequence[str]) -> int:
    """``python -m bench.api reference --port N`` or ``python -m bench.api load BASE PATHS …``."""
    p = argparse.ArgumentParser(prog="python -m bench.api")
    sub = p.add_subparsers(dest="role", required=True)
    sub.add_parser("reference").add_argument("--port", type=int, required=True)
    load = sub.add_parser("load")
    load.add_argument("base")
    load.add_argument("paths", type=Path)
    load.add_argument("--connections", type=int, required=True)
    load.add_argument("--duration", type=float, required=True)
    load.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.role == "reference":
        serve_reference(args.port)
        return 0
    paths = [line for line in args.paths.read_text().splitlines() if line]
    sample = asyncio.run(python_generator(args.base, paths, args.connections, args.duration, args.seed))
    print(RESULT_TAG + json.dumps(asdict(sample)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(helper(sys.argv[1:]))
