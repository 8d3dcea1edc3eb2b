"""Alternative routes by the penalty method: meaningfully different, none much worse than the best.

After each route found, the weights of its sections are multiplied by ``growth`` for the next search
(only ever up, so the landmark bounds stay valid), which pushes the search off roads already used.
A candidate is kept when its true cost is within ``max_stretch`` of the best and at most
``max_share`` of its length lies on any route already kept; otherwise it is only penalised, and the
search tries again, up to ``3 * n`` searches in all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from travel.routing.engine import Route, RouteEngine, Seed
from travel.routing.profiles import PASSENGER_CAR, Metric, VehicleProfile

MAX_SHARE = 0.7
MAX_STRETCH = 1.4
GROWTH = 1.4


def shared_fraction(route: Route, other: Route, length_m: np.ndarray) -> float:
    """The part of ``route``'s length on sections ``other`` also uses (1.0 for an empty route)."""
    total = float(np.sum(length_m[route.sections]))
    if total <= 0.0:
        return 1.0
    common = np.isin(route.sections, other.sections)
    return float(np.sum(length_m[route.sections[common]])) / total


def alternatives(engine: RouteEngine, sources: Sequence[Seed], targets: Sequence[Seed], n: int,
                 metric: Metric | str = Metric.FASTEST, profile: VehicleProfile = PASSENGER_CAR, *,
                 max_share: float = MAX_SHARE, max_stretch: float = MAX_STRETCH, growth: float = GROWTH,
                 **options: object) -> list[Route]:
    """Up to ``n`` routes, the best first, each different from all earlier ones (see module doc)."""
    best = engine.route(sources, targets, metric, profile, **options)  # type: ignore[arg-type]
    if best is None or n <= 1:
        return [] if best is None else [best]
    length_m = np.asarray(engine.sections.length_m, np.float64)
    penalty = np.ones(engine.sections.count)
    kept = [best]
    last = best
    for _ in range(3 * n):
        penalty[last.sections] *= growth
        last = engine.route(sources, targets, metric, profile, penalty=penalty, **options)  # type: ignore[arg-type]
        if last is None:
            break
        if last.weight <= max_stretch * best.weight and all(
                shared_fraction(last, route, length_m) <= max_share for route in kept):
            kept.append(last)
            if len(kept) == n:
                break
    return kept
