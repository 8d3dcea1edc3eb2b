"""The oracle: a plain Dijkstra in pure Python over (node, last section) states, written from the rules."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from travel.routing.graph import Sections
from travel.routing.profiles import VehicleProfile


def section_weight(sections: Sections, i: int, metric: str, profile: VehicleProfile, slowdown: float,
                   toll_cost: Sequence[float] | None) -> float:
    length = float(sections.length_m[i])
    if metric == "shortest":
        return length
    seconds = length * 3.6 / min(float(sections.speed_kmh[i]), profile.max_speed_kmh) * slowdown
    if metric == "cheapest":
        assert toll_cost is not None
        return seconds + float(toll_cost[i]) * 1e6
    return seconds


def usable(sections: Sections, i: int, profile: VehicleProfile, avoid_tolls: bool, avoid_expressways: bool) -> bool:
    if avoid_tolls and sections.toll[i] or avoid_expressways and sections.expressway[i]:
        return False
    for value, limits in ((profile.height_m, sections.max_height_m), (profile.total_mass_t, sections.max_weight_t),
                          (profile.axle_load_t, sections.max_axle_load_t)):
        if value is not None and limits is not None and not math.isnan(limits[i]) and value > limits[i]:
            return False
    return profile.vehicle_class not in sections.forbidden_classes.get(i, frozenset())


def best_cost(sections: Sections, sources: Sequence[tuple[int, float]], targets: Sequence[tuple[int, float]],
              metric: str, profile: VehicleProfile, closed: set[int], slowdown: dict[int, float],
              avoid_tolls: bool = False, avoid_expressways: bool = False,
              toll_cost: Sequence[float] | None = None) -> float | None:
    """The least cost from any source to any target (offsets included), or None."""
    out: dict[int, list[tuple[int, int]]] = {}
    for i in range(sections.count):
        if i in closed or not usable(sections, i, profile, avoid_tolls, avoid_expressways):
            continue
        a, b = int(sections.section_from[i]), int(sections.section_to[i])
        out.setdefault(a, []).append((i, b))
        if not sections.oneway[i]:
            out.setdefault(b, []).append((i, a))
    banned = set(sections.banned_turns)
    dist: dict[tuple[int, int], float] = {}
    heap = [(off, node, -1) for node, off in sources]
    heapq.heapify(heap)
    reached: dict[int, float] = {}
    while heap:
        g, node, last = heapq.heappop(heap)
        if (node, last) in dist:
            continue
        dist[node, last] = g
        reached[node] = min(reached.get(node, math.inf), g)
        for sec, nxt in out.get(node, []):
            if last >= 0 and (last, node, sec) in banned:
                continue
            w = section_weight(sections, sec, metric, profile, slowdown.get(sec, 1.0), toll_cost)
            heapq.heappush(heap, (g + w, nxt, sec))
    costs = [reached[node] + off for node, off in targets if node in reached]
    return min(costs) if costs else None


def path_cost(sections: Sections, route_sections: np.ndarray, metric: str, profile: VehicleProfile,
              slowdown: dict[int, float], toll_cost: Sequence[float] | None) -> float:
    return sum(section_weight(sections, int(i), metric, profile, slowdown.get(int(i), 1.0), toll_cost)
               for i in route_sections)


def costs_to(sections: Sections, targets: Sequence[tuple[int, float]], metric: str, profile: VehicleProfile,
             avoid_tolls: bool = False, avoid_expressways: bool = False,
             toll_cost: Sequence[float] | None = None) -> dict[int, float]:
    """Least cost from every node to the targets (offsets included), ignoring banned turns: a reverse Dijkstra."""
    into: dict[int, list[tuple[int, int]]] = {}
    for i in range(sections.count):
        if not usable(sections, i, profile, avoid_tolls, avoid_expressways):
            continue
        a, b = int(sections.section_from[i]), int(sections.section_to[i])
        into.setdefault(b, []).append((i, a))
        if not sections.oneway[i]:
            into.setdefault(a, []).append((i, b))
    done: dict[int, float] = {}
    heap = [(off, node) for node, off in targets]
    heapq.heapify(heap)
    while heap:
        g, node = heapq.heappop(heap)
        if node in done:
            continue
        done[node] = g
        for sec, prev in into.get(node, []):
            heapq.heappush(heap, (g + section_weight(sections, sec, metric, profile, 1.0, toll_cost), prev))
    return done
