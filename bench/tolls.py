"""Toll benchmark: quotes through the API against the bare-handler reference, and single-quote compute time.

``python -m bench tolls`` serves the bundled Henan data with ``travel serve`` (embedded store) and loads
``/v1/tolls/quote`` with wrk in two mixes, each against the same bare aiohttp handler ``bench api``
uses:

* **repeated**: a working set of popular questions (2,000 station and city pairs × classes × payment,
  each with its exit time ``at``) asked again and again; answers come from the quote cache;
* **repeated, now**: the same without ``at``, as a portal's toll calculator asks (judged at the time
  of the request, so each answer carries its own ``at``);
* **distinct**: 200,000 different questions drawn at random, so most answers are computed.

It then times ``quote()`` in this process on the same read model, caches dropped before each call
(the planner's routes between the stations, pricing and answer all computed) and warm (the answer
cached), and reports p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from bench.api import BenchError, Options, Sample, measure, pick_generator, server_env, serving
from geodata.loader import read_bundle
from travel.core.vehicle_classes import CLASS_CODES, vehicle_class
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.network_holder import NetworkHolder
from travel.routing.stations import StationRoutes
from travel.tolls.book import Lru, TollBook, TollBooks
from travel.tolls.quote import QuoteRequest, Unquotable, quote_json

TARGET_RATIO = 0.60
TARGET_P50_MS = 1.0
AT = "2026-11-24T10:00:00+08:00"
CITIES = ("郑州", "洛阳", "开封", "南阳", "许昌", "新乡", "信阳", "商丘", "周口", "驻马店", "三门峡", "平顶山")
MIXES = {"repeated": (2_000, True), "repeated, now": (2_000, False), "distinct": (200_000, True)}  # (questions, at)


@dataclass(frozen=True, slots=True)
class TollOptions:
    """What to measure."""

    connections: int = 64
    duration: int = 10
    warmup: int = 2
    compute_samples: int = 2_000
    generator: str = "auto"
    seed: int = 1


def _book() -> tuple[TollBook, StationRoutes]:
    """The bundled data's toll book, and the planner's routes between its stations."""
    model = ReadModel()
    for records in read_bundle().values():
        model.apply(records)
    books = TollBooks(model, PlaceResolver(model))
    return books.current(), asyncio.run(NetworkHolder(model).station_routes())


def _questions(book: TollBook, rng: random.Random, count: int, at: bool = True) -> list[dict[str, str]]:
    """``count`` distinct quote questions: mostly station pairs, some city pairs, every class and payment."""
    ends = [s.id for s in book.network.stations] + list(CITIES)
    seen: set[tuple[str, ...]] = set()
    out: list[dict[str, str]] = []
    classes = sorted(CLASS_CODES)
    limit = len(ends) * (len(ends) - 1) * len(classes) * 2
    while len(out) < min(count, limit):
        origin, destination = rng.sample(ends, 2)
        q = (origin, destination, str(rng.choice(classes)), rng.choice(("etc", "cash")))
        if q not in seen:
            seen.add(q)
            out.append({"from": q[0], "to": q[1], "vehicle_class": q[2], "payment": q[3], **({"at": AT} if at else {})})
    return out


def _write_paths(path: Path, questions: list[dict[str, str]]) -> Path:
    path.write_text("".join(f"/v1/tolls/quote?{urlencode(q)}\n" for q in questions), encoding="utf-8")
    return path


def _cold(book: TollBook, routes: StationRoutes) -> StationRoutes:
    """Drop every cache, so the next quote routes, prices and answers anew; returns routes with none cached."""
    for name in ("quotes", "bodies", "priced", "sides"):
        setattr(book, name, Lru(getattr(book, name).size))
    return StationRoutes(routes.network, routes.state)


def compute_times(book: TollBook, routes: StationRoutes,
                  questions: list[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Milliseconds per quote (as the API's JSON) with every cache dropped first, and with the answer cached."""
    requests = [QuoteRequest(origin=q["from"], destination=q["to"],
                             vehicle_class=vehicle_class(int(q["vehicle_class"])), payment=q["payment"],
                             at=datetime.fromisoformat(q["at"])) for q in questions]
    cold: list[float] = []
    warm: list[float] = []
    for request in requests:
        fresh = _cold(book, routes)
        for times in (cold, warm):
            start = time.perf_counter()
            try:
                quote_json(book, fresh, request)
            except Unquotable:
                break
            times.append((time.perf_counter() - start) * 1000)
    return cold, warm


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(opts: TollOptions, console: Console) -> Table:
    """Measure the reference, both mixes through the API, and the in-process compute time."""
    generator, load = pick_generator(opts.generator, console)
    api_opts = replace(Options(), connections=opts.connections, duration=opts.duration, warmup=opts.warmup,
                       generator=opts.generator, seed=opts.seed)
    rng = random.Random(opts.seed)
    book, routes = _book()
    table = Table(title=f"Toll benchmark: {generator}, {opts.connections} connections, {opts.duration} s per row",
                  caption=f"ratio = req/s ÷ the bare handler's; targets: ratio ≥ {TARGET_RATIO:.2f} (API rows), "
                          f"p50 < {TARGET_P50_MS:g} ms (compute rows)")
    for name in ("row", "req/s", "p50 ms", "p99 ms", "non-2xx", "CPU µs/req", "ratio", "target"):
        table.add_column(name, justify="left" if name in ("row", "target") else "right")
    with tempfile.TemporaryDirectory(prefix="travel-bench-tolls-") as tmp:
        workdir = Path(tmp)
        paths = {mix: _write_paths(workdir / f"{mix.replace(', ', '-')}.txt",
                                   _questions(book, random.Random(opts.seed), count, at))
                 for mix, (count, at) in MIXES.items()}
        console.print(f"measuring the bare aiohttp handler with {generator} …")
        with serving([sys.executable, "-m", "bench.api", "reference"], server_env(api_opts, {}), "/",
                     workdir / "reference.log") as server:
            reference = measure(load, server, paths["repeated"], api_opts)
        table.add_row("reference (bare aiohttp)", *_cells(reference), "1.00", "")
        env = server_env(api_opts, {"TRAVEL_DATA_DIR": str(workdir / "data"), "TRAVEL_LOAD_GEODATA": "true"})
        with serving([sys.executable, "-m", "travel", "serve", "--host", "127.0.0.1"], env, "/readyz",
                     workdir / "travel.log") as server:
            for mix, file in paths.items():
                console.print(f"measuring {mix} quotes …")
                sample = measure(load, server, file, api_opts)
                ratio = sample.rps / reference.rps if reference.rps else 0.0
                ok = ratio >= TARGET_RATIO and sample.non2xx == 0 and sample.errors == 0
                verdict = "[green]met" if ok else "[red]missed"
                table.add_row(f"API quote, {mix}", *_cells(sample), f"{ratio:.2f}", verdict)
    console.print(f"timing quote() in-process on {opts.compute_samples} questions …")
    cold, warm = compute_times(book, routes, _questions(book, rng, opts.compute_samples))
    for label, times in (("compute, caches dropped", cold), ("compute, answer cached", warm)):
        p50 = _percentile(times, 50)
        verdict = "[green]met" if p50 < TARGET_P50_MS else "[red]missed"
        table.add_row(label, f"{1000 / statistics.fmean(times):,.0f}", f"{p50:.3f}", f"{_percentile(times, 99):.3f}",
                      "", "", "", verdict)
    return table


def _cells(s: Sample) -> list[str]:
    return [f"{s.rps:,.0f}", f"{s.p50_ms:.2f}", f"{s.p99_ms:.2f}", str(s.non2xx + s.errors),
            f"{s.cpu_us_per_request:.0f}"]


def parse_args(argv: Sequence[str] | None) -> TollOptions:
    """Options from the command line."""
    p = argparse.ArgumentParser(prog="python -m bench tolls", description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per row (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    p.add_argument("--compute-samples", type=int, default=2_000, help="in-process quotes timed (default 2000)")
    p.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    p.add_argument("--seed", type=int, default=1, help="random seed of the questions")
    return TollOptions(**vars(p.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench tolls``."""
    opts = parse_args(argv)
    console = Console(stderr=True)
    try:
        table = run(opts, console)
    except BenchError as err:
        console.print(f"[red]bench tolls: {err}")
        return 2
    Console(width=max(Console().width, 120)).print(table)
    return 0
