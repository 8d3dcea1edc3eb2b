"""The compiled loops: a binary heap, plain Dijkstra (landmark tables) and the A* search of every query.

Everything here is a pure function of the arrays it is given (no module state), so several engines
can live in one process, and ``nogil=True`` lets queries from different threads run at once.
Compiled code is cached on disk (``cache=True``): only the first process after an install compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SHORTEST, FASTEST, CHEAPEST = 0, 1, 2
#: Cheapest routes minimise ``fen * TOLL_SCALE + seconds``: money first, time breaks ties. Float64 keeps
#: ~1e-5 s resolution up to 1e10 fen·scale, and the time landmarks stay lower bounds since fen >= 0.
TOLL_SCALE = 1e6
#: Relative error allowance of the float32 landmark tables (float32 rounds by at most 2**-24 ≈ 6e-8).
TABLE_MARGIN = 1e-7
#: "No path" in a landmark table; any bound above PROVEN_UNREACHABLE proves the target unreachable.
UNREACHABLE = np.float32(1e30)
PROVEN_UNREACHABLE = 1e29
OK, HEAP_FULL = 0, 1


@njit(cache=True, nogil=True)
def heap_push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    """Insert (key, val) into the min-heap of ``size`` entries; the new size (caller checks capacity)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@njit(cache=True, nogil=True)
def heap_pop(keys: np.ndarray, vals: np.ndarray, size: int) -> int:
    """Remove the minimum (read ``keys[0], vals[0]`` first); the new size."""
    size -= 1
    key = keys[size]
    val = vals[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    keys[i] = key
    vals[i] = val
    return size


@njit(cache=True, nogil=True)
def dijkstra_all(first: np.ndarray, other: np.ndarray, weight: np.ndarray, source: int) -> np.ndarray:
    """Distances from ``source`` to every node over a CSR graph (``other``: far end of each arc)."""
    n = first.shape[0] - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    keys = np.empty(other.shape[0] + 1, np.float64)
    vals = np.empty(other.shape[0] + 1, np.int32)
    dist[source] = 0.0
    size = heap_push(keys, vals, 0, 0.0, source)
    while size > 0:
        d = keys[0]
        v = vals[0]
        size = heap_pop(keys, vals, size)
        if done[v]:
            continue
        done[v] = True
        for a in range(first[v], first[v + 1]):
            u = other[a]
            nd = d + weight[a]
            if nd < dist[u]:
                dist[u] = nd
                size = heap_push(keys, vals, size, nd, u)
    return dist


@njit(cache=True, nogil=True)
def lower_bound(v: int, bounds: np.ndarray, targets: np.ndarray, margin: float, tgt_off: np.ndarray) -> float:
    """A lower bound on the cost from node ``v`` to the cheapest target (offsets included); inf: none reachable.

    ``bounds[v, k]`` = d(L_k, v) and ``bounds[v, K + k]`` = d(v, L_k); ``targets`` holds the targets'
    rows. Per landmark L: d(v,t) >= d(L,t) - d(L,v) and d(v,t) >= d(v,L) - d(t,L). Unreachable is
    stored as ``UNREACHABLE`` (finite, so the loop needs no branch and vectorises): where it makes a
    term meaningless the term comes out hugely negative, where it proves t unreachable from v hugely
    positive. Float32 tables give up ``margin`` (``TABLE_MARGIN``) of each term's operands, more than
    float32 rounding can have added; the float64 tables of cheapest routes need none (0).
    """
    half = bounds.shape[1] // 2
    best = np.inf
    for j in range(targets.shape[0]):
        lb = 0.0
        for k in range(half):
            from_v = np.float64(bounds[v, k])
            from_t = targets[j, k]
            to_v = np.float64(bounds[v, half + k])
            to_t = targets[j, half + k]
            d = max(from_t - from_v - margin * (from_t + from_v), to_v - to_t - margin * (to_v + to_t))
            lb = max(lb, d)
        if lb < PROVEN_UNREACHABLE:
            best = min(best, lb + tgt_off[j])
    return best


@njit(cache=True, nogil=True)
def banned(ban_first: np.ndarray, ban_to: np.ndarray, e_in: int, f: int) -> bool:
    """Whether edge ``f`` may not follow edge ``e_in`` (a banned turn; ``e_in`` < 0: arrived by no edge)."""
    if e_in < 0:
        return False
    for b in range(ban_first[e_in], ban_first[e_in + 1]):  # noqa: SIM110 - a plain loop compiles to a plain loop
        if ban_to[b] == f:
            return True
    return False


@njit(cache=True, nogil=True)
def astar(first_out: np.ndarray, head: np.ndarray, esec: np.ndarray,
          has_ban: np.ndarray, ban_first: np.ndarray, ban_to: np.ndarray,
          edge_length: np.ndarray, edge_speed: np.ndarray, toll: np.ndarray,
          slow: np.ndarray, closed: np.ndarray, blocked: np.ndarray, pen: np.ndarray,
          metric: int, vmax: float,
          bounds: np.ndarray, targets: np.ndarray, margin: float,
          src_node: np.ndarray, src_off: np.ndarray, src_edge: np.ndarray,
          tgt_node: np.ndarray, tgt_off: np.ndarray, tgt_edge: np.ndarray,
          dist: np.ndarray, hcache: np.ndarray, pred: np.ndarray, pred_arc: np.ndarray, mark: np.ndarray,
          qid: int, hkey: np.ndarray, hval: np.ndarray) -> tuple[int, float, int, int]:
    """Multi-source, multi-target A* over directed edges; returns (status, weight, end state, target index).

    States: ``v < n`` is "at node v" (nodes without banned turns need no more); ``n + e`` is "at the
    head of edge e having used e", only for heads with banned turns. Edge weights are computed on the
    fly from the live arrays (``closed`` per edge, so one direction can close; ``slow`` per section)
    and the per-request ``blocked`` mask, so a live
    change is visible to the very next search. ``mark`` is ``2 * qid`` for a state reached in this
    query and ``2 * qid + 1`` once settled: nothing is cleared between queries. ``pred_arc`` holds
    the edge used to reach a state, or ``-1 - i`` for source ``i``. Static per-edge data
    (``edge_length``, ``edge_speed``) is in edge order, next to ``head``, to save cache misses; an
    empty ``pen`` means no penalties. ``hcache`` keeps each reached state's potential, so an
    improved state is pushed again without recomputing it.

    A seed may name the edge of the point's own section it drives (``src_edge``/``tgt_edge``, -1:
    none, the point is at the node): a source then starts as having used that edge, so a ban on
    turning off it holds, and a target is reached only by a state that may turn into it.
    """
    n = first_out.shape[0] - 1
    cap = hkey.shape[0]
    penalised = pen.shape[0] > 0
    reached = 2 * qid
    settled = reached + 1
    size = 0
    for i in range(src_node.shape[0]):
        v = src_node[i]
        g = src_off[i]
        s = n + src_edge[i] if src_edge[i] >= 0 and has_ban[v] else v
        if mark[s] == reached and dist[s] <= g:
            continue
        h = lower_bound(v, bounds, targets, margin, tgt_off)
        if h == np.inf:
            continue
        mark[s] = reached
        dist[s] = g
        hcache[s] = h
        pred[s] = -1
        pred_arc[s] = -1 - i
        if size == cap:
            return HEAP_FULL, np.inf, -1, -1
        size = heap_push(hkey, hval, size, g + h, s)
    best = np.inf
    best_state = -1
    best_target = -1
    while size > 0:
        key = hkey[0]
        s = hval[0]
        size = heap_pop(hkey, hval, size)
        if key >= best:
            break
        if mark[s] == settled:
            continue
        mark[s] = settled
        g = dist[s]
        if s < n:
            v = s
            e_in = -1
        else:
            e_in = s - n
            v = head[e_in]
        for j in range(tgt_node.shape[0]):
            if tgt_node[j] == v and g + tgt_off[j] < best and not banned(ban_first, ban_to, e_in, tgt_edge[j]):
                best = g + tgt_off[j]
                best_state = s
                best_target = j
        for f in range(first_out[v], first_out[v + 1]):
            u = head[f]
            ns = n + f if has_ban[u] else u
            m = mark[ns]
            if m == settled:  # the way back, mostly: skip before touching the section's arrays
                continue
            sec = esec[f]
            if closed[f] or blocked[sec]:
                continue
            if banned(ban_first, ban_to, e_in, f):
                continue
            if metric == SHORTEST:
                w = edge_length[f]
            else:
                sp = edge_speed[f]
                if sp > vmax:
                    sp = vmax
                w = edge_length[f] * 3.6 / sp * slow[sec]
                if metric == CHEAPEST:
                    w += toll[sec] * TOLL_SCALE
            if penalised:
                w *= pen[sec]
            ng = g + w
            if m != reached:
                h = lower_bound(u, bounds, targets, margin, tgt_off)
                if h == np.inf:
                    continue
                hcache[ns] = h
            elif ng < dist[ns]:
                h = hcache[ns]  # a state's potential depends on its node only: computed once per query
            else:
                continue
            mark[ns] = reached
            dist[ns] = ng
            pred[ns] = s
            pred_arc[ns] = f
            if size == cap:
                return HEAP_FULL, np.inf, -1, -1
            size = heap_push(hkey, hval, size, ng + h, ns)
    return OK, best, best_state, best_target


@njit(cache=True, nogil=True)
def trace(pred: np.ndarray, pred_arc: np.ndarray, state: int) -> tuple[np.ndarray, int]:
    """The edges leading to ``state`` in travel order, and the index of the source it started from."""
    count = 0
    s = state
    while pred[s] != -1:
        count += 1
        s = pred[s]
    source = -1 - pred_arc[s]
    arcs = np.empty(count, np.int32)
    s = state
    for i in range(count - 1, -1, -1):
        arcs[i] = pred_arc[s]
        s = pred[s]
    return arcs, source
