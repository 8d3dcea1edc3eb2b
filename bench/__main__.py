"""``python -m bench NAME [options]``: run one benchmark; each is a module with ``main(argv) -> int``."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

BENCHMARKS: dict[str, tuple[str, str]] = {
    "api": ("bench.api", "read endpoints (pois, events) against a bare aiohttp handler"),
    "feeds": ("bench.feeds", "parse throughput per format; push- and poll-to-visible freshness"),
    "imports": ("bench.imports", "travel import of a synthetic road network (N sections), time and peak memory"),
    "routing": ("bench.routing", "route queries on a synthetic network against pgRouting's pgr_dijkstra"),
    "tolls": ("bench.tolls", "toll quotes through the API against a bare handler; single-quote compute time"),
}


def main(argv: Sequence[str]) -> int:
    """Dispatch to the benchmark named by the first argument."""
    if not argv or argv[0] not in BENCHMARKS:
        names = "\n".join(f"  {name:<8} {summary}" for name, (_, summary) in BENCHMARKS.items())
        print(f"usage: python -m bench NAME [options]  (NAME --help for its options)\n\n{names}", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(BENCHMARKS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
