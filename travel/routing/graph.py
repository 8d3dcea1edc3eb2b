"""The routing graph: road sections (undirected or one-way) turned into directed edges in CSR form.

Built once with numpy from the arrays the road network stores; the engine never changes it. Live
state (closures, slow-downs) lives in separate per-section arrays so changing it is an O(k) write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Sections:
    """Road sections as parallel arrays (index = section id), the engine's whole input.

    ``oneway``: only from→to may be driven. Restriction limits are NaN where the section has none.
    ``forbidden_classes`` maps a section to the vehicle classes (JT/T 489 codes) it is closed to.
    ``banned_turns`` are ``(from_section, via_node, to_section)``: entering ``to_section`` at
    ``via_node`` right after leaving ``from_section`` there is not allowed.
    """

    node_count: int
    section_from: np.ndarray
    section_to: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray
    oneway: np.ndarray
    toll: np.ndarray
    expressway: np.ndarray
    max_height_m: np.ndarray | None = None
    max_weight_t: np.ndarray | None = None
    max_axle_load_t: np.ndarray | None = None
    forbidden_classes: Mapping[int, frozenset[int]] = field(default_factory=dict)
    banned_turns: Sequence[tuple[int, int, int]] = ()

    @property
    def count(self) -> int:
        """Number of sections."""
        return int(self.section_from.shape[0])

    def limit(self, name: str) -> np.ndarray:
        """One restriction array (``max_height_m`` …) as float64, all NaN when the data has none."""
        values = getattr(self, name)
        return np.full(self.count, np.nan) if values is None else np.asarray(values, np.float64)

    def validate(self) -> None:
        """Refuse inputs the search would silently get wrong (bad node ids, non-positive speeds …)."""
        s, n = self.count, self.node_count
        for name in ("section_to", "length_m", "speed_kmh", "oneway", "toll", "expressway"):
            if np.asarray(getattr(self, name)).shape != (s,):
                raise ValueError(f"{name} must have one entry per section ({s})")
        ends = np.concatenate([self.section_from, self.section_to]) if s else np.zeros(0, np.int64)
        if s and (ends.min() < 0 or ends.max() >= n):
            raise ValueError(f"section ends must be node indices in 0..{n - 1}")
        length = np.asarray(self.length_m, np.float64)
        speed = np.asarray(self.speed_kmh, np.float64)
        if not (np.isfinite(length).all() and (length >= 0).all()):
            raise ValueError("length_m must be finite and >= 0")
        if not (np.isfinite(speed).all() and (speed > 0).all()):
            raise ValueError("speed_kmh must be finite and > 0")
        if any(not 0 <= sec < s for sec in self.forbidden_classes):
            raise ValueError("forbidden_classes names a section that does not exist")


@dataclass(frozen=True, eq=False, kw_only=True)
class Graph:
    """Directed edges sorted by tail (CSR), both directions for two-way sections, and the turn bans.

    Edge ``e`` runs ``tail[e] → head[e]`` along section ``section[e]``, ``forward[e]`` when from→to.
    ``ban_first``/``ban_to``: CSR over incoming edges of the edges that may not follow them;
    ``has_ban[v]`` marks nodes with any banned turn (only those need edge-based search states).
    """

    first_out: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    section: np.ndarray
    forward: np.ndarray
    has_ban: np.ndarray
    ban_first: np.ndarray
    ban_to: np.ndarray

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.first_out.shape[0] - 1)

    @property
    def edge_count(self) -> int:
        """Number of directed edges."""
        return int(self.head.shape[0])

    def reverse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR by head: (first_in, tail of each incoming arc, edge id of each) — for distances *to* a node."""
        first_in, order = _by_head(self.head, self.node_count)
        return first_in, self.tail[order], order.astype(np.int32)


def _first_index(sorted_keys: np.ndarray, n: int) -> np.ndarray:
    """CSR offsets for keys already sorted: entries of key v are ``[first[v], first[v+1])``."""
    return np.searchsorted(sorted_keys, np.arange(n + 1)).astype(np.int64)


def build_graph(sections: Sections) -> Graph:
    """Expand sections into directed edges and index the banned turns."""
    sections.validate()
    n = sections.node_count
    a = np.asarray(sections.section_from, np.int32)
    b = np.asarray(sections.section_to, np.int32)
    two_way = np.flatnonzero(~np.asarray(sections.oneway, bool)).astype(np.int32)
    sec = np.concatenate([np.arange(sections.count, dtype=np.int32), two_way])
    fwd = np.concatenate([np.ones(sections.count, bool), np.zeros(two_way.shape[0], bool)])
    tail = np.where(fwd, a[sec], b[sec])
    head = np.where(fwd, b[sec], a[sec])
    order = np.argsort(tail, kind="stable")
    tail, head, sec, fwd = tail[order], head[order], sec[order], fwd[order]
    first_out = _first_index(tail, n)
    has_ban, ban_first, ban_to = _index_bans(sections.banned_turns, n, first_out, head, sec)
    return Graph(first_out=first_out, tail=tail.astype(np.int32), head=head.astype(np.int32), section=sec, forward=fwd,
                 has_ban=has_ban, ban_first=ban_first, ban_to=ban_to)


def _index_bans(bans: Sequence[tuple[int, int, int]], n: int, first_out: np.ndarray, head: np.ndarray,
                sec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn (from_section, via_node, to_section) into (incoming edge, outgoing edge) pairs, CSR by incoming."""
    has_ban = np.zeros(n, np.uint8)
    pairs: set[tuple[int, int]] = set()
    if bans:
        first_in, in_edge = _by_head(head, n)
    for from_sec, via, to_sec in bans:
        if not 0 <= via < n:
            raise ValueError(f"banned turn {(from_sec, via, to_sec)}: node {via} does not exist")
        incoming = [int(e) for e in in_edge[first_in[via]:first_in[via + 1]] if sec[e] == from_sec]
        outgoing = [e for e in range(first_out[via], first_out[via + 1]) if sec[e] == to_sec]
        pairs.update((e, f) for e in incoming for f in outgoing)
        if incoming and outgoing:
            has_ban[via] = 1
    ordered = sorted(pairs)
    ban_from = np.array([e for e, _ in ordered], np.int64)
    ban_to = np.array([f for _, f in ordered], np.int32)
    return has_ban, _first_index(ban_from, head.shape[0]), ban_to


def _by_head(head: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges grouped by head node: CSR offsets and the edge ids in that order."""
    order = np.argsort(head, kind="stable")
    return _first_index(head[order], n), order
