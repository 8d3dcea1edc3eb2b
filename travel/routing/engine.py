"""The route engine: queries over a fixed graph with live closures and slow-downs shared by all queries.

Built once from ``Sections``; ``route`` answers one request with a compiled A* guided by landmark
bounds (see landmarks.py for why live changes never invalidate them). Live state is two per-section
arrays written in place, so a closure is visible to the next query with no rebuild.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from travel.routing import kernels
from travel.routing.graph import Graph, Sections, build_graph
from travel.routing.landmarks import DEFAULT_SPECS, BoundSpec, EdgeData, Landmarks, compute, table
from travel.routing.profiles import PASSENGER_CAR, BlockedMasks, Metric, VehicleProfile

Direction = Literal["both", "forward", "backward"]
DIRECTION_BITS: dict[str, np.uint8] = {"forward": np.uint8(1), "backward": np.uint8(2), "both": np.uint8(3)}
Seed = tuple[int, float] | tuple[int, float, int, bool]
"""A place a route may start or end: a node and the cost (in the metric's weight) between it and the point.

A point part-way along a section adds that section and the direction driven on it between the point
and the node (``True``: from→to), so turn bans between it and the next section hold.
"""
CHEAPEST_TABLES = 4  # landmark tables of cheapest routes kept (one per toll cost array: class and tariff period)



@dataclass(frozen=True, eq=False)
class Route:
    """One route. ``sections``/``forward`` list the driven sections in order (forward: from→to).

    ``weight`` is what was minimised, offsets included: metres, seconds, or for cheapest
    ``fen * TOLL_SCALE + seconds``. ``cost`` is that in the metric's unit (metres, seconds, fen).
    ``length_m``, ``time_s`` and ``toll`` cover the whole sections only (offsets are the caller's).
    ``source``/``target`` index the seed lists; ``legs`` holds the parts of a ``route_via`` answer.
    """

    weight: float
    cost: float
    length_m: float
    time_s: float
    toll: float
    sections: np.ndarray
    forward: np.ndarray
    nodes: np.ndarray
    source: int
    target: int
    legs: tuple[Route, ...] = field(default=())


def joined(legs: Sequence[Route]) -> Route:
    """Consecutive legs as one route (totals summed, sections and nodes in order, the legs kept)."""
    return Route(
        weight=sum(leg.weight for leg in legs), cost=sum(leg.cost for leg in legs),
        length_m=sum(leg.length_m for leg in legs), time_s=sum(leg.time_s for leg in legs),
        toll=sum(leg.toll for leg in legs), sections=np.concatenate([leg.sections for leg in legs]),
        forward=np.concatenate([leg.forward for leg in legs]),
        nodes=np.concatenate([legs[0].nodes] + [leg.nodes[1:] if len(leg.nodes) and len(prev.nodes)
                                                and leg.nodes[0] == prev.nodes[-1] else leg.nodes
                                                for prev, leg in zip(legs, legs[1:], strict=False)]),
        source=legs[0].source, target=legs[-1].target, legs=tuple(legs))


class _Workspace:
    """Per-search scratch arrays, reused across queries (stamps instead of clearing)."""

    def __init__(self, states: int, heap: int) -> None:
        self.dist = np.empty(states)
        self.hcache = np.empty(states)
        self.pred = np.empty(states, np.int32)
        self.pred_arc = np.empty(states, np.int32)
        self.mark = np.zeros(states, np.int32)
        self.hkey = np.empty(heap)
        self.hval = np.empty(heap, np.int32)
        self.qid = 0

    def next_qid(self) -> int:
        """A fresh query id; marks are ``2 * qid`` and ``2 * qid + 1``, so wrap before int32 would."""
        if self.qid >= np.iinfo(np.int32).max // 2 - 1:
            self.mark[:] = 0
            self.qid = 0
        self.qid += 1
        return self.qid


class RouteEngine:
    """Route queries on one road network; safe to share between threads (each search takes its own workspace)."""

    def __init__(self, sections: Sections, landmarks: int = 16, bound_specs: Sequence[BoundSpec] = DEFAULT_SPECS,
                 seed: int = 0) -> None:
        """Build the graph and the landmark tables (``landmarks`` nodes, one table per spec; see landmarks.py)."""
        started = time.perf_counter()
        self.sections = sections
        self.graph: Graph = build_graph(sections)
        self._length = np.ascontiguousarray(sections.length_m, np.float64)
        self._speed = np.ascontiguousarray(sections.speed_kmh, np.float64)
        self._toll_sections = np.flatnonzero(np.asarray(sections.toll, bool))
        s = sections.count
        self.closed = np.zeros(s, np.uint8)  # per section: bit 1 from→to closed, bit 2 to→from closed
        self._closed_edge = np.zeros(self.graph.edge_count, np.uint8)
        self._edge_of = np.full((s, 2), -1, np.int64)  # per section: its forward and backward edge
        self._edge_of[self.graph.section, (~np.asarray(self.graph.forward, bool)).astype(np.int64)] = \
            np.arange(self.graph.edge_count)
        self.slowdown = np.ones(s)
        self._zeros = np.zeros(s)
        self._no_penalty = np.zeros(0)
        self._cheapest: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cheapest_lock = threading.Lock()
        self.masks = BlockedMasks(sections)
        sec = self.graph.section
        self._edge_length, self._edge_speed = self._length[sec], self._speed[sec]
        edges = EdgeData(self._edge_length, self._edge_speed, np.asarray(sections.toll, bool)[sec],
                         np.asarray(sections.expressway, bool)[sec])
        self.landmarks: Landmarks = compute(self.graph, edges, bound_specs, landmarks, seed)
        self._pool: list[_Workspace] = []
        self._pool_lock = threading.Lock()
        self._heap_size = self.graph.edge_count + self.graph.node_count + 16
        self.build_seconds = time.perf_counter() - started

    # ------------------------------------------------------------------ live state
    def close_sections(self, indices: Iterable[int], direction: Direction = "both") -> None:
        """Close sections for every following query: both ways, or only from→to (``forward``) or back."""
        sections = np.asarray(list(indices), np.int64)
        self.closed[sections] |= DIRECTION_BITS[direction]
        self._mirror(sections)

    def reopen_sections(self, indices: Iterable[int], direction: Direction = "both") -> None:
        """Undo ``close_sections`` for the given direction(s)."""
        sections = np.asarray(list(indices), np.int64)
        self.closed[sections] &= np.uint8(~DIRECTION_BITS[direction] & 3)
        self._mirror(sections)

    def set_closures(self, sections: Sequence[int], bits: Sequence[int]) -> None:
        """Set sections' closure bits outright (1 from→to, 2 to→from, 3 both, 0 open)."""
        indices = np.asarray(sections, np.int64)
        self.closed[indices] = np.asarray(bits, np.uint8)
        self._mirror(indices)

    def _mirror(self, sections: np.ndarray) -> None:
        """Copy the sections' direction bits onto their directed edges, which the search reads."""
        for column, bit in ((0, 1), (1, 2)):
            edges = self._edge_of[sections, column]
            present = edges >= 0
            self._closed_edge[edges[present]] = (self.closed[sections[present]] & bit) != 0

    def set_slowdown(self, indices: Iterable[int], factor: float) -> None:
        """Multiply travel time on sections by ``factor`` (>= 1: congestion can only slow traffic down)."""
        if not factor >= 1.0:
            raise ValueError("slow-down factor must be >= 1 (landmark bounds assume weights never shrink)")
        self.slowdown[np.asarray(list(indices), np.int64)] = factor

    def clear_slowdown(self, indices: Iterable[int]) -> None:
        """Back to free-flow time on these sections."""
        self.slowdown[np.asarray(list(indices), np.int64)] = 1.0

    # ------------------------------------------------------------------ queries
    def route(self, sources: Sequence[Seed], targets: Sequence[Seed], metric: Metric | str = Metric.FASTEST,
              profile: VehicleProfile = PASSENGER_CAR, *, avoid_tolls: bool = False,
              avoid_expressways: bool = False, toll_cost: np.ndarray | None = None,
              penalty: np.ndarray | None = None) -> Route | None:
        """The best route from any source to any target, or ``None`` when no target can be reached.

        ``toll_cost``: fen per section for this vehicle class (required for cheapest; also reported as
        ``toll`` for other metrics). ``penalty``: per-section weight multipliers >= 1 (alternatives use
        it); the returned route's weight and cost are always the unpenalised ones.
        """
        metric = Metric(metric)
        if metric is Metric.CHEAPEST and toll_cost is None:
            raise ValueError("cheapest routes need toll_cost (fen per section for the vehicle class)")
        src_node, src_off, src_edge = self._seeds(sources, "sources")
        tgt_node, tgt_off, tgt_edge = self._seeds(targets, "targets")
        blocked = self.masks.get(profile, avoid_tolls, avoid_expressways)
        toll = self._zeros if toll_cost is None else np.ascontiguousarray(toll_cost, np.float64)
        bounds, margin = self._bounds(metric, profile, avoid_tolls, avoid_expressways, toll)
        rows = bounds[tgt_node].astype(np.float64)
        work = self._acquire()
        try:
            while True:
                status, _, state, target = kernels.astar(
                    self.graph.first_out, self.graph.head, self.graph.section, self.graph.has_ban,
                    self.graph.ban_first, self.graph.ban_to, self._edge_length, self._edge_speed, toll,
                    self.slowdown, self._closed_edge, blocked, self._no_penalty if penalty is None else penalty,
                    metric.code, float(profile.max_speed_kmh), bounds, rows, margin,
                    src_node, src_off, src_edge, tgt_node, tgt_off, tgt_edge,
                    work.dist, work.hcache, work.pred, work.pred_arc, work.mark, work.next_qid(), work.hkey, work.hval)
                if status == kernels.OK:
                    break
                work.hkey = np.empty(2 * work.hkey.shape[0])
                work.hval = np.empty(2 * work.hval.shape[0], np.int32)
            if state < 0:
                return None
            arcs, source = kernels.trace(work.pred, work.pred_arc, state)
        finally:
            self._release(work)
        return self._describe(arcs, (int(src_node[source]), source, float(src_off[source])),
                              (target, float(tgt_off[target])), metric, profile, toll)

    def route_via(self, waypoints: Sequence[Sequence[Seed]], metric: Metric | str = Metric.FASTEST,
                  profile: VehicleProfile = PASSENGER_CAR, **options: object) -> Route | None:
        """A route through the waypoints in order (each a seed list, like ``route``'s), or ``None``.

        Each waypoint is one place, so the best total is the sum of the best legs between
        consecutive waypoints: the legs are searched independently and joined.
        """
        if len(waypoints) < 2:
            raise ValueError("a route needs at least two waypoints")
        legs = []
        for here, there in zip(waypoints, waypoints[1:], strict=False):
            leg = self.route(here, there, metric, profile, **options)  # type: ignore[arg-type]
            if leg is None:
                return None
            legs.append(leg)
        return joined(legs)

    def lower_bound(self, node: int, targets: Sequence[Seed], metric: Metric | str = Metric.FASTEST,
                    profile: VehicleProfile = PASSENGER_CAR, *, avoid_tolls: bool = False,
                    avoid_expressways: bool = False, toll_cost: np.ndarray | None = None) -> float:
        """The A* potential at ``node`` for such a request: never more than the true cost to the targets.

        The search relies on exactly this value; it is public so tests can check that promise.
        """
        metric = Metric(metric)
        tgt_node, tgt_off, _ = self._seeds(targets, "targets")
        toll = self._zeros if toll_cost is None else np.ascontiguousarray(toll_cost, np.float64)
        bounds, margin = self._bounds(metric, profile, avoid_tolls, avoid_expressways, toll)
        return float(kernels.lower_bound(node, bounds, bounds[tgt_node].astype(np.float64), margin, tgt_off))

    def cheapest_bounds(self, toll_cost: np.ndarray) -> np.ndarray:
        """The landmark table of cheapest routes for one toll cost array (fen per section), built once and kept.

        Distances from and to the landmarks in the cheapest metric itself (free-flow seconds plus
        fen × TOLL_SCALE), so the bound knows both the money still to pay and the time it takes.
        Float64: at TOLL_SCALE even float32's relative 6e-8 would be seconds, too coarse for the time
        that breaks ties between equally priced routes. Kept for the last ``CHEAPEST_TABLES`` arrays
        by identity: the caller keeps one array per vehicle class and tariff period and never changes
        it (``Search`` does). Seconds to build on a province: callers that must not pay that in a
        query call this first.
        """
        key = id(toll_cost)
        with self._cheapest_lock:
            kept = self._cheapest.get(key)
            if kept is not None and kept[0] is toll_cost:
                self._cheapest.move_to_end(key)
                return kept[1]
        weight = self._edge_length * 3.6 / self._edge_speed + \
            np.asarray(toll_cost, np.float64)[self.graph.section] * kernels.TOLL_SCALE
        built = table(self.graph, self.landmarks.nodes, weight, np.float64)
        with self._cheapest_lock:
            self._cheapest[key] = (toll_cost, built)
            while len(self._cheapest) > CHEAPEST_TABLES:
                self._cheapest.popitem(last=False)
        return built

    def section_weights(self, sections: np.ndarray, metric: Metric, profile: VehicleProfile,
                        toll_cost: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-section (search weight, seconds) now, for the given sections, exactly as the search prices them."""
        length = self._length[sections]
        seconds = length * 3.6 / np.minimum(self._speed[sections], profile.max_speed_kmh) * self.slowdown[sections]
        if metric is Metric.SHORTEST:
            return length, seconds
        if metric is Metric.CHEAPEST:
            assert toll_cost is not None
            return seconds + np.asarray(toll_cost, np.float64)[sections] * kernels.TOLL_SCALE, seconds
        return seconds, seconds

    # ------------------------------------------------------------------ helpers
    def _bounds(self, metric: Metric, profile: VehicleProfile, avoid_tolls: bool, avoid_expressways: bool,
                toll: np.ndarray) -> tuple[np.ndarray, float]:
        """The landmark table to guide this request and the margin its precision needs.

        Cheapest routes through toll sections get a table of their own metric (``cheapest_bounds``):
        the time tables know nothing of money, and the least toll price anywhere is far below what
        a route whose toll cannot be avoided pays, so guided by them such a search settled most of
        the network before it paid.
        """
        if metric is Metric.CHEAPEST and not avoid_tolls and self._toll_sections.size:
            return self.cheapest_bounds(toll), 0.0
        spec = self.landmarks.best(metric is Metric.SHORTEST, profile.max_speed_kmh, avoid_tolls, avoid_expressways)
        return self.landmarks.tables[spec], kernels.TABLE_MARGIN

    def _describe(self, arcs: np.ndarray, start: tuple[int, int, float], end: tuple[int, float], metric: Metric,
                  profile: VehicleProfile, toll: np.ndarray) -> Route:
        """The route along ``arcs``, priced again from the live arrays in the search's order of addition.

        Re-pricing rather than reusing the search's number makes penalised searches (alternatives)
        report true costs, and costs the same few microseconds as reading them back.
        """
        node, source, src_off = start
        target, tgt_off = end
        sections = self.graph.section[arcs]
        weights, seconds = self.section_weights(sections, metric, profile, toll)
        total = src_off
        for w in weights.tolist():
            total += w
        total += tgt_off
        fen = float(np.sum(toll[sections]))
        return Route(weight=total, cost=fen if metric is Metric.CHEAPEST else total,
                     length_m=float(np.sum(self._length[sections])), time_s=float(np.sum(seconds)), toll=fen,
                     sections=sections, forward=self.graph.forward[arcs],
                     nodes=np.concatenate([[node], self.graph.head[arcs]]).astype(np.int32),
                     source=source, target=target)

    def _seeds(self, seeds: Sequence[Seed], what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nodes, offsets and the edge each seed drives on its point's section (-1: none)."""
        if not seeds:
            raise ValueError(f"{what}: at least one (node, offset) is needed")
        nodes = np.array([s[0] for s in seeds], np.int32)
        offsets = np.array([s[1] for s in seeds], np.float64)
        if nodes.min() < 0 or nodes.max() >= self.graph.node_count:
            raise ValueError(f"{what}: node index out of range")
        if not (np.isfinite(offsets).all() and (offsets >= 0).all()):
            raise ValueError(f"{what}: offsets must be finite and >= 0")
        edges = np.full(len(seeds), -1, np.int64)
        ends = self.graph.head if what == "sources" else self.graph.tail
        for k, seed in enumerate(seeds):
            if len(seed) == 4:
                section, forward = int(seed[2]), bool(seed[3])
                edge = int(self._edge_of[section, 0 if forward else 1]) if 0 <= section < self.sections.count else -1
                if edge < 0 or ends[edge] != nodes[k]:
                    raise ValueError(f"{what}: section {section} is not driven that way to or from node {nodes[k]}")
                edges[k] = edge
        return nodes, offsets, edges

    def _acquire(self) -> _Workspace:
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        return _Workspace(self.graph.node_count + self.graph.edge_count, self._heap_size)

    def _release(self, work: _Workspace) -> None:
        with self._pool_lock:
            self._pool.append(work)

