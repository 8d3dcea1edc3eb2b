"""Road sections as graph parts, shared by the toll calculator's charged network and the route planner.

Nodes are the sections' ``from_node``/``to_node`` names numbered in order of first appearance,
positioned at the ends of the section geometries; a section's length is its stake span (the
distance signs and tolls use), or its geometry's length where stakes are unset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from travel.core.records import RoadSection
from travel.core.spatial import haversine_m


@dataclass(frozen=True, eq=False)
class NodeIndex:
    """Node names numbered 0..N-1 with their positions, and each section's (from, to) node numbers."""

    ids: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    ends: NDArray[np.int64]


def node_index(sections: Sequence[RoadSection]) -> NodeIndex:
    """Number the nodes of ``sections`` (in section order)."""
    nodes: dict[str, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    ends = np.empty((len(sections), 2), dtype=np.int64)
    for i, section in enumerate(sections):
        coords = section.geometry.coordinates
        for j, (name, (x, y)) in enumerate(((section.from_node, coords[0]), (section.to_node, coords[-1]))):
            if name not in nodes:
                nodes[name] = len(nodes)
                lon.append(x)
                lat.append(y)
            ends[i, j] = nodes[name]
    return NodeIndex(list(nodes), np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), ends)


def section_length_m(section: RoadSection) -> float:
    """Length of a road section: its stake span, or its geometry's length when stakes are unset."""
    span = abs(section.end_stake_m - section.start_stake_m)
    if span > 0:
        return span
    coords = np.asarray(section.geometry.coordinates, dtype=np.float64)
    return float(sum(haversine_m(*a, *b) for a, b in zip(coords[:-1], coords[1:], strict=True)))
