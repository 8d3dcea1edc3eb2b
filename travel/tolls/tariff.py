"""Rates as data: per toll (gantry) section and vehicle class, dated; plus the dated rule sets.

A path is charged section by section: the kilometres driven inside each toll section (to the metre)
times its rate for the class, rounded half up to the fen. Bridges and tunnels are toll sections with rates of their
own. Which rates and rules apply is decided by the exit time; ``period`` numbers the spans of time in
which nothing changes, so a priced path can be cached per period.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from travel.core.errors import Unanswerable
from travel.core.records import TollRate, TollRules, TollSection
from travel.core.vehicle_classes import VehicleClass
from travel.tolls.network import TollPath


class NotPriced(Unanswerable):
    """The path cannot be priced: a rate or the rules are missing for that class and time."""

    title = "Not priced"


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionCharge:
    """One toll section of a path: kilometres driven in it, its rate, and the undiscounted charge."""

    section: TollSection
    metres: int
    fen_per_km: int
    rate_id: str
    base_fen: int

    @property
    def km(self) -> float:
        """Kilometres charged (exact to the metre)."""
        return self.metres / 1000


class Tariff:
    """Rates by (toll section, class) and rule sets, each list ordered by the date it took effect."""

    def __init__(self, sections: Iterable[TollSection], rates: Iterable[TollRate], rules: Iterable[TollRules]) -> None:
        self.sections: dict[str, TollSection] = {}
        self.of_road_section: dict[str, str] = {}
        for section in sections:
            self.sections[section.id] = section
            for road_section in section.road_sections:
                self.of_road_section[road_section] = section.id
        self.rates: dict[tuple[str, int], list[TollRate]] = {}
        for rate in rates:
            self.rates.setdefault((rate.toll_section, rate.vehicle_class), []).append(rate)
        for dated in self.rates.values():
            dated.sort(key=lambda r: r.effective_from)
        self.rules = sorted(rules, key=lambda r: r.effective_from)
        changes = {r.effective_from for r in self.rules} | {r.effective_to for r in self.rules if r.effective_to}
        for dated in self.rates.values():
            changes.update(r.effective_from for r in dated)
            changes.update(r.effective_to for r in dated if r.effective_to)
        self._changes = sorted(changes)
        self._lengths: dict[str, float] | None = None
        self._whole: dict[str, float] = {}  # road length of each toll section, for the network in _lengths
        self._in_force: dict[tuple[str, int, int], TollRate] = {}  # (section, class, period) → rate

    def period(self, at: datetime) -> int:
        """The number of the span of time (between rate or rule changes) that ``at`` falls in."""
        return bisect_right(self._changes, at)

    def rules_at(self, at: datetime) -> TollRules:
        """The rule set in force at ``at``."""
        for rules in reversed(self.rules):
            if rules.effective_from <= at and (rules.effective_to is None or at < rules.effective_to):
                return rules
        raise NotPriced(f"no toll rules are in force at {at.isoformat()}; import them with travel import toll_rules")

    def rate_at(self, section_id: str, vehicle_class: VehicleClass, at: datetime,
                period: int | None = None) -> TollRate:
        """The rate of one toll section for a class at ``at`` (whose ``period`` may be given); NotPriced if none."""
        key = (section_id, vehicle_class.code, self.period(at) if period is None else period)
        rate = self._in_force.get(key)
        if rate is None:
            rate = self._in_force[key] = self._find_rate(section_id, vehicle_class, at)
        return rate

    def _find_rate(self, section_id: str, vehicle_class: VehicleClass, at: datetime) -> TollRate:
        for rate in reversed(self.rates.get((section_id, vehicle_class.code), ())):
            if rate.effective_from <= at and (rate.effective_to is None or at < rate.effective_to):
                return rate
        section = self.sections[section_id]
        raise NotPriced(f"no {vehicle_class.name} rate for toll section {section.name} ({section_id}) "
                        f"in force at {at.isoformat()}")

    def charge(self, path: TollPath, vehicle_class: VehicleClass, at: datetime,
               lengths: dict[str, float]) -> list[SectionCharge]:
        """The path's toll sections in driving order; ``lengths`` are the network's road-section lengths."""
        driven: dict[str, float] = {}
        for road_section, length in zip(path.sections, path.lengths_m, strict=True):
            section_id = self.of_road_section.get(road_section)
            if section_id is not None:  # expressway sections outside every toll section are free
                driven[section_id] = driven.get(section_id, 0.0) + length
        if lengths is not self._lengths:
            self._lengths, self._whole = lengths, {}
        charges = []
        period = self.period(at)
        for section_id, metres in driven.items():
            section = self.sections[section_id]
            whole = self._whole.get(section_id)
            if whole is None:
                whole = self._whole[section_id] = sum(lengths.get(r, 0.0) for r in section.road_sections)
            whole = whole or metres
            charged = round(section.length_m * min(1.0, metres / whole))
            rate = self.rate_at(section_id, vehicle_class, at, period)
            # metres × fen/km ÷ 1000, rounded half up to the fen, in integers (exact)
            charges.append(SectionCharge(section=section, metres=charged, fen_per_km=rate.fen_per_km, rate_id=rate.id,
                                         base_fen=(charged * rate.fen_per_km + 500) // 1000))
        return charges
