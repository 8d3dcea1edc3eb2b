"""The compiled loops of the geo index's points: box and radius queries over latitude bands.

Points are laid out in band order, each band sorted by longitude (``travel.read.index.PointLayout``):
a query bisects each band it meets and measures the slice in one compiled call, where the same
loop in Python costs a few hundred nanoseconds per point. Distances are ``haversine_m``'s exactly:
the same libm functions and products in the same order (no fast-math: nothing is fused or reordered).
Compiled code is cached on disk (``cache=True``): only the first process after an install compiles.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from travel.core.spatial import EARTH_RADIUS_M, degree_box

_RAD = math.pi / 180.0  # what math.radians multiplies by
_degree_box = njit(cache=True, nogil=True)(degree_box)  # the same formula, compiled for ``within``


@njit(cache=True, nogil=True)
def _band_range(starts: np.ndarray, first_band: int, band_deg: float, south: float, north: float) -> tuple[int, int]:
    """The slots (first, last + 1) of the bands between ``south`` and ``north``, clipped to the layout."""
    low = max(int(math.floor(south / band_deg)) - first_band, 0)
    high = min(int(math.floor(north / band_deg)) - first_band + 1, len(starts) - 1)
    return low, max(high, low)


@njit(cache=True, nogil=True)
def in_box(lons: np.ndarray, lats: np.ndarray, starts: np.ndarray, first_band: int, band_deg: float,
           west: float, south: float, east: float, north: float) -> np.ndarray:
    """Layout rows of the points inside the box, boundary included, in layout order."""
    low, high = _band_range(starts, first_band, band_deg, south, north)
    spans = np.empty((high - low, 2), np.int64)
    total = 0
    for k in range(low, high):
        s, e = starts[k], starts[k + 1]
        spans[k - low, 0] = s + np.searchsorted(lons[s:e], west, "left")
        spans[k - low, 1] = s + np.searchsorted(lons[s:e], east, "right")
        total += spans[k - low, 1] - spans[k - low, 0]
    rows = np.empty(total, np.int64)
    n = 0
    for k in range(high - low):
        for j in range(spans[k, 0], spans[k, 1]):
            if south <= lats[j] <= north:
                rows[n] = j
                n += 1
    return rows[:n]


@njit(cache=True, nogil=True)
def within(lons: np.ndarray, lats: np.ndarray, halves: np.ndarray, starts: np.ndarray, first_band: int,
           band_deg: float, lon: float, lat: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(layout rows, metres) of the points within ``radius_m`` of (lon, lat), nearest first (ties: layout order).

    ``halves`` holds each point's latitude in radians and its cosine (rows 0 and 1). The candidate box
    is ``travel.core.spatial.degree_box``'s; distances are measured exactly, so the box only has to hold the circle.
    """
    west, south, east, north = _degree_box(lon, lat, radius_m)
    candidates = in_box(lons, lats, starts, first_band, band_deg, west, south, east, north)
    p1 = math.radians(lat)
    cos_p1 = math.cos(p1)
    rows = np.empty(len(candidates), np.int64)
    metres = np.empty(len(candidates))
    n = 0
    for j in candidates:
        sin_dp = math.sin((halves[0, j] - p1) / 2)
        sin_dl = math.sin((lons[j] - lon) * _RAD / 2)
        h = sin_dp * sin_dp + cos_p1 * halves[1, j] * (sin_dl * sin_dl)
        d = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
        if d <= radius_m:
            rows[n] = j
            metres[n] = d
            n += 1
    order = np.argsort(metres[:n], kind="mergesort")
    return rows[:n][order], metres[:n][order]
