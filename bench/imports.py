"""Import benchmark: a synthetic road network of N sections through ``travel import network``'s importer.

``python -m bench imports --sections N --store embedded|postgis|both`` writes a GeoJSON grid of N
road sections over Henan, imports it into a throw-away store of each backend (each in its own
process, so peak RSS is that import's alone: its peak plus its validating worker's) and prints
seconds, CPU seconds (the worker's included), records/s and peak RSS against the
targets for 1,000,000 sections: embedded < 60 s, PostGIS < 120 s, peak memory < 2 GiB.

``python -m bench.imports child BACKEND FILE TARGET`` is the helper process it starts itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.api import HENAN, ROADS, STORES, BenchError, postgis_database
from travel.core.records import Kind
from travel.ingest.importer import import_file
from travel.store.base import Store
from travel.store.bus import InProcessBus

TARGET_S = {"embedded": 60.0, "postgis": 120.0}  # at TARGET_SECTIONS
TARGET_SECTIONS = 1_000_000
TARGET_RSS_BYTES = 2 << 30
RESULT_TAG = "BENCH-RESULT "
CHILD_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Result:
    """One backend's import of the synthetic network."""

    backend: str
    sections: int
    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float  # the import's CPU, all threads and its worker process (not PostgreSQL's)
    load: float  # the machine's 1-minute load average when the import ended

    @property
    def rate(self) -> float:
        """Records imported per second."""
        return self.sections / self.seconds if self.seconds else 0.0

    @property
    def target_s(self) -> float:
        """The time target scaled linearly to this run's size."""
        return TARGET_S[self.backend] * self.sections / TARGET_SECTIONS

    @property
    def meets_targets(self) -> bool:
        """Within the (scaled) time target and the memory target."""
        return self.seconds < self.target_s and self.peak_rss_bytes < TARGET_RSS_BYTES


def write_network(path: Path, sections: int) -> int:
    """Write ``sections`` road sections as a grid of short lines over Henan; the file's size in bytes."""
    west, south, east, north = HENAN
    cols = max(1, math.isqrt(sections))
    rows = math.ceil(sections / cols)
    dx, dy = (east - west) / cols, (north - south) / rows
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","metadata":{"kind":"road_section",'
                 '"updated_at":"2026-11-24T00:00:00+08:00","version":1},"features":[\n')
        for i in range(sections):
            row, col = divmod(i, cols)
            x, y = west + col * dx, south + row * dy
            feature = {
                "type": "Feature", "id": f"syn-{i:07d}",
                "geometry": {"type": "LineString",
                             "coordinates": [[round(x, 6), round(y, 6)], [round(x + dx / 2, 6), round(y + dy / 3, 6)],
                                             [round(x + dx * 0.9, 6), round(y, 6)]]},
                "properties": {"road": ROADS[row % len(ROADS)], "road_name": "合成路段", "road_class": "provincial",
                               "from_node": f"n{row}.{col}", "to_node": f"n{row}.{col + 1}",
                               "start_stake_m": col * 1000.0, "end_stake_m": col * 1000.0 + 900.0,
                               "speed_kmh": 80, "lanes": 4},
            }
            fh.write(("," if i else "") + json.dumps(feature, ensure_ascii=False, separators=(",", ":")) + "\n")
        fh.write("]}\n")
    return path.stat().st_size


async def _import(backend: str, path: Path, target: str) -> int:
    """Import ``path`` into a fresh store of ``backend`` (``target`` is its file or DSN); records imported."""
    store: Store
    if backend == "embedded":
        from travel.store.embedded import EmbeddedStore

        store = EmbeddedStore(Path(target))
    else:
        from travel.store.postgis import PostgisStore

        store = PostgisStore(target)
    await store.open()
    bus = InProcessBus()  # what the CLI uses without REDIS_URL
    await bus.start()
    try:
        report = await import_file(store, bus, Kind.ROAD_SECTION, path)
    finally:
        await bus.stop()
        await store.close()
    return report.created


def child(argv: Sequence[str]) -> int:
    """Helper process: import one file into one backend and print the result as JSON."""
    backend, path, target = argv
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    created = asyncio.run(_import(backend, Path(path), target))
    seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    rss = sum(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    rss *= 1 if sys.platform == "darwin" else 1024
    print(RESULT_TAG + json.dumps({"created": created, "seconds": seconds, "peak_rss_bytes": rss,
                                   "cpu_seconds": cpu_seconds, "load": os.getloadavg()[0]}))
    return 0


def _cpu_seconds() -> float:
    """CPU used by this process and its ended children (the importer's validating worker)."""
    return sum(usage.ru_utime + usage.ru_stime
               for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def measure(backend: str, path: Path, target: str, sections: int) -> Result:
    """Run one backend's import in its own process."""
    proc = subprocess.run([sys.executable, "-m", "bench.imports", "child", backend, str(path), target],
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if proc.returncode or not lines:
        raise BenchError(f"{backend} import failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(lines[-1].removeprefix(RESULT_TAG))
    if data["created"] != sections:
        raise BenchError(f"{backend}: imported {data['created']} sections, expected {sections}")
    return Result(backend, sections, data["seconds"], data["peak_rss_bytes"], data["cpu_seconds"], data["load"])


def run(sections: int, stores: Sequence[str], console: Console) -> list[Result]:
    """Generate the network once and import it into each backend."""
    results = []
    with tempfile.TemporaryDirectory(prefix="travel-bench-imports-") as tmp:
        path = Path(tmp) / "network.geojson"
        started = time.perf_counter()
        size = write_network(path, sections)
        console.print(f"wrote {sections:,} sections ({size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.1f} s")
        for backend in stores:
            if backend == "embedded":
                results.append(measure(backend, path, str(Path(tmp) / f"{backend}.sqlite3"), sections))
            else:
                with postgis_database() as dsn:
                    results.append(measure(backend, path, dsn, sections))
            console.print(f"{backend}: {results[-1].seconds:.1f} s")
    return results


def render(results: Sequence[Result]) -> Table:
    """The results with their targets."""
    table = Table(title="travel import network (synthetic grid)")
    for name in ("backend", "sections", "seconds", "CPU s", "load", "records/s", "peak RSS MiB", "target s",
                 "target MiB", "ok"):
        table.add_column(name, justify="left" if name == "backend" else "right")
    for r in results:
        table.add_row(r.backend, f"{r.sections:,}", f"{r.seconds:.1f}", f"{r.cpu_seconds:.1f}", f"{r.load:.1f}",
                      f"{r.rate:,.0f}",
                      f"{r.peak_rss_bytes / 2**20:,.0f}", f"{r.target_s:.1f}", f"{TARGET_RSS_BYTES / 2**20:,.0f}",
                      "yes" if r.meets_targets else "NO")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench imports``."""
    p = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.split("\n\n")[0])
    p.add_argument("--sections", type=int, default=100_000, help="synthetic road sections (default 100000)")
    p.add_argument("--store", choices=sorted(STORES), default="both", help="backend(s) to measure (default both)")
    p.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    args = p.parse_args(argv)
    if args.sections < 1:
        p.error("--sections must be at least 1")
    console = Console(stderr=True)
    try:
        results = run(args.sections, STORES[args.store], console)
    except BenchError as err:
        console.print(f"[red]bench imports: {err}")
        return 2
    if args.json:
        print(json.dumps([{"backend": r.backend, "sections": r.sections, "seconds": r.seconds,
                           "cpu_seconds": r.cpu_seconds, "load": r.load,
                           "records_per_s": r.rate, "peak_rss_bytes": r.peak_rss_bytes,
                           "target_s": r.target_s, "meets_targets": r.meets_targets} for r in results], indent=2))
    else:
        Console(width=max(Console().width, 120)).print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[2:]) if sys.argv[1:2] == ["child"] else main(sys.argv[1:]))
