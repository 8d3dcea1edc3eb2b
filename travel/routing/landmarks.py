"""Landmark tables for ALT: distances from and to a few far-apart nodes, on "base" weights.

A table's base weights are the smallest any query it serves can see: no slow-down, nothing closed,
no turn bans, no toll money, and the fastest speed the table allows. Every live or per-request change
only raises a weight or removes an edge, and a shortest distance never drops when weights rise, so
the triangle bounds built from a table stay valid lower bounds forever — no recomputation on
closures or congestion.

One table per ``BoundSpec``: plain length (shortest), free-flow time (fastest), and tighter ones
for common requests whose weights are far above free flow — slow vehicles (a speed cap) and avoided
tolls or expressways (those sections left out). A loose bound costs no correctness, only search
time; a tight one is what keeps truck and toll-free queries fast. Cheapest routes get a table of
their own metric per toll cost array, built on first use (``RouteEngine.cheapest_bounds``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from travel.routing.graph import Graph
from travel.routing.kernels import UNREACHABLE, dijkstra_all


@dataclass(frozen=True, slots=True)
class BoundSpec:
    """Which base weights a landmark table is computed on, hence which requests it may guide."""

    length: bool = False  # metres (shortest) instead of seconds
    speed_cap_kmh: float = math.inf  # seconds at min(section speed, cap): valid for vehicles no faster
    without_tolls: bool = False  # toll sections left out: valid only for routes that never use them
    without_expressways: bool = False

    def serves(self, shortest: bool, max_speed_kmh: float, no_tolls: bool, no_expressways: bool) -> bool:
        """Whether this table's bounds are lower bounds for such a request."""
        return (self.length == shortest and max_speed_kmh <= self.speed_cap_kmh
                and (no_tolls or not self.without_tolls) and (no_expressways or not self.without_expressways))

    def tightness(self) -> tuple[int, float]:
        """Sort key, tightest first: leaving sections out beats a speed cap (it changes routes, not just pace)."""
        return (-(self.without_tolls + self.without_expressways), self.speed_cap_kmh)


DEFAULT_SPECS = (
    BoundSpec(length=True),
    BoundSpec(),
    BoundSpec(speed_cap_kmh=90.0),
    BoundSpec(without_tolls=True),
    BoundSpec(without_expressways=True),
)
REQUIRED_SPECS = (BoundSpec(length=True), BoundSpec())  # every request can fall back on these


@dataclass(frozen=True, eq=False)
class Landmarks:
    """The landmark nodes and, per spec, ``table[v, k]`` = d(L_k, v) and ``table[v, K + k]`` = d(v, L_k).

    Float32 rows: a bound at one node needs exactly that node's row, 2K float32 = two adjacent cache
    lines for K = 16, which is what a search step waits for (the search allows for the rounding).
    No path is ``kernels.UNREACHABLE``, a finite stand-in for infinity.
    """

    nodes: np.ndarray
    tables: dict[BoundSpec, np.ndarray]

    def best(self, shortest: bool, max_speed_kmh: float, no_tolls: bool, no_expressways: bool) -> BoundSpec:
        """The tightest table that serves the request."""
        usable = [s for s in self.tables if s.serves(shortest, max_speed_kmh, no_tolls, no_expressways)]
        return min(usable, key=BoundSpec.tightness)


@dataclass(frozen=True, eq=False)
class EdgeData:
    """Per directed edge, what base weights are made of."""

    length: np.ndarray
    speed: np.ndarray
    toll: np.ndarray
    expressway: np.ndarray

    def weights(self, spec: BoundSpec) -> np.ndarray:
        """The base weight of each edge under ``spec`` (inf where it leaves the edge out)."""
        w = self.length.copy() if spec.length else self.length * 3.6 / np.minimum(self.speed, spec.speed_cap_kmh)
        if spec.without_tolls:
            w[self.toll] = np.inf
        if spec.without_expressways:
            w[self.expressway] = np.inf
        return w


def compute(graph: Graph, edges: EdgeData, specs: Sequence[BoundSpec], count: int, seed: int = 0) -> Landmarks:
    """Choose ``count`` landmarks and fill one table per spec (the required ones always included).

    Selection is "farthest": each next landmark is the node farthest (in free-flow time) from all
    chosen so far, which spreads them over the network's rim, where they give the tightest bounds.
    """
    n = graph.node_count
    count = max(1, min(count, n))
    base = edges.weights(BoundSpec())
    start = int(np.random.default_rng(seed).integers(n))
    nearest = _reachable(dijkstra_all(graph.first_out, graph.head, base, start))
    nodes = np.empty(count, np.int64)
    for k in range(count):
        nodes[k] = int(np.argmax(nearest))
        nearest = np.minimum(nearest, _reachable(dijkstra_all(graph.first_out, graph.head, base, int(nodes[k]))))
    tables = {spec: table(graph, nodes, edges.weights(spec), np.float32)
              for spec in dict.fromkeys([*REQUIRED_SPECS, *specs])}
    return Landmarks(nodes, tables)


def table(graph: Graph, nodes: np.ndarray, weight: np.ndarray, dtype: type) -> np.ndarray:
    """``t[v, k]`` = d(L_k, v) and ``t[v, K + k]`` = d(v, L_k) under per-edge ``weight`` (no path: UNREACHABLE).

    Also the toll money tables of cheapest routes (float64 there, see ``kernels.money_bound``).
    """
    count = nodes.shape[0]
    first_in, in_tail, in_edge = graph.reverse()
    out = np.empty((graph.node_count, 2 * count), dtype)
    for k, lm in enumerate(nodes.tolist()):
        out[:, k] = np.minimum(dijkstra_all(graph.first_out, graph.head, weight, lm), UNREACHABLE)
        out[:, count + k] = np.minimum(dijkstra_all(first_in, in_tail, weight[in_edge], lm), UNREACHABLE)
    return out


def _reachable(dist: np.ndarray) -> np.ndarray:
    """Distances with unreachable nodes at -1, so they are never chosen as the farthest."""
    return np.where(np.isfinite(dist), dist, -1.0)
