"""What a request asks for: the metric, the vehicle, and the sections that vehicle may not use.

A request's "blocked" mask (vehicle restrictions plus avoid flags) depends only on the static
network and the request, never on live closures, so it is computed once per distinct signature with
numpy and cached; closures are checked separately in the search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from travel.routing.graph import Sections
from travel.routing.kernels import CHEAPEST, FASTEST, SHORTEST


class Metric(StrEnum):
    """What a route minimises."""

    SHORTEST = "shortest"  # metres
    FASTEST = "fastest"  # seconds at the vehicle's speeds and the live slow-downs
    CHEAPEST = "cheapest"  # toll money (fen) for the vehicle class, ties broken by time

    @property
    def code(self) -> int:
        """The compiled search's metric number."""
        return {Metric.SHORTEST: SHORTEST, Metric.FASTEST: FASTEST, Metric.CHEAPEST: CHEAPEST}[self]


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleProfile:
    """A vehicle: its JT/T 489 class code, top speed, and the dimensions section limits are checked against.

    Time on a section is ``length / min(section speed, max_speed_kmh)`` times the live slow-down.
    A dimension left ``None`` is not checked.
    """

    vehicle_class: int
    max_speed_kmh: float
    height_m: float | None = None
    total_mass_t: float | None = None
    axle_load_t: float | None = None

    def __post_init__(self) -> None:
        if not self.max_speed_kmh > 0:
            raise ValueError("max_speed_kmh must be > 0")


PASSENGER_CAR = VehicleProfile(vehicle_class=1, max_speed_kmh=120.0)


class BlockedMasks:
    """Per-request masks of sections a vehicle may not use, cached by (restrictions, avoid flags)."""

    def __init__(self, sections: Sections, capacity: int = 64) -> None:
        self._toll = np.asarray(sections.toll, bool)
        self._expressway = np.asarray(sections.expressway, bool)
        self._limits = {name: sections.limit(name) for name in ("max_height_m", "max_weight_t", "max_axle_load_t")}
        by_class: dict[int, list[int]] = {}
        for sec, classes in sections.forbidden_classes.items():
            for cls in classes:
                by_class.setdefault(cls, []).append(sec)
        self._by_class = {cls: np.array(secs, np.int64) for cls, secs in by_class.items()}
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self.none = np.zeros(self._toll.shape[0], np.uint8)

    def get(self, profile: VehicleProfile, avoid_tolls: bool, avoid_expressways: bool) -> np.ndarray:
        """The uint8 mask (1 = may not use) for this vehicle and these avoid flags; shared, read-only."""
        key = (profile.vehicle_class, profile.height_m, profile.total_mass_t, profile.axle_load_t,
               avoid_tolls, avoid_expressways)
        with self._lock:
            mask = self._cache.get(key)
            if mask is not None:
                self._cache.move_to_end(key)
                return mask
        mask = self._compute(profile, avoid_tolls, avoid_expressways)
        with self._lock:
            self._cache[key] = mask
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return mask

    def _compute(self, profile: VehicleProfile, avoid_tolls: bool, avoid_expressways: bool) -> np.ndarray:
        blocked = np.zeros(self._toll.shape[0], bool)
        for value, name in ((profile.height_m, "max_height_m"), (profile.total_mass_t, "max_weight_t"),
                            (profile.axle_load_t, "max_axle_load_t")):
            if value is not None:
                blocked |= self._limits[name] < value  # NaN (no limit) compares False
        if profile.vehicle_class in self._by_class:
            blocked[self._by_class[profile.vehicle_class]] = True
        if avoid_tolls:
            blocked |= self._toll
        if avoid_expressways:
            blocked |= self._expressway
        if not blocked.any():
            return self.none
        mask = blocked.astype(np.uint8)
        mask.flags.writeable = False
        return mask
