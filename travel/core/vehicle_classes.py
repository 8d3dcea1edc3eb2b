"""Vehicle classes of JT/T 489-2019 《收费公路车辆通行费车型分类》, in force on every toll road since 2020-01-01.

Codes as in ETC/CPC gantry data: passenger 1–4, truck 11–16, special-purpose (专项作业车) 21–26.
Passenger classes go by approved seats (核定载人数) and length; trucks and special-purpose vehicles by
axles, length and maximum permitted total mass (最大允许总质量). ``classify`` explains the rule that
decided, in Chinese, because it is shown to the traveller who asked.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum

from travel.core.errors import InvalidParameter

STANDARD = "JT/T 489-2019"
SHORT_VEHICLE_MM = 6000  # 车长 6 m: the passenger 1/2 vs 3/4 and truck 11 vs 12 boundary
LIGHT_TRUCK_KG = 4500  # 最大允许总质量 4.5 t: truck 11 vs 12
MAX_AXLES_CHARGED = 6


class VehicleKind(StrEnum):
    """The three families of the standard."""

    PASSENGER = "passenger"
    TRUCK = "truck"
    SPECIAL = "special"


KIND_ZH = {VehicleKind.PASSENGER: "客车", VehicleKind.TRUCK: "货车", VehicleKind.SPECIAL: "专项作业车"}
_ORDINALS = "一二三四五六"


@dataclass(frozen=True, slots=True)
class VehicleClass:
    """One class: its code, family, rank within the family (1–6) and zh name (一类客车 …)."""

    code: int
    kind: VehicleKind
    rank: int
    criterion: str

    @property
    def name(self) -> str:
        """The zh name, e.g. 三类货车."""
        return f"{_ORDINALS[self.rank - 1]}类{KIND_ZH[self.kind]}"


def _axle_criteria(kind: VehicleKind, base: int) -> list[VehicleClass]:
    return [
        VehicleClass(base + 1, kind, 1, "2轴，车长小于6000mm且最大允许总质量小于4500kg"),
        VehicleClass(base + 2, kind, 2, "2轴，车长不小于6000mm或最大允许总质量不小于4500kg"),
        VehicleClass(base + 3, kind, 3, "3轴"),
        VehicleClass(base + 4, kind, 4, "4轴"),
        VehicleClass(base + 5, kind, 5, "5轴"),
        VehicleClass(base + 6, kind, 6, "6轴（6轴以上按6类计）"),
    ]


CLASSES: dict[int, VehicleClass] = {
    c.code: c
    for c in (
        VehicleClass(1, VehicleKind.PASSENGER, 1, "核定载人数不大于9人，车长小于6000mm"),
        VehicleClass(2, VehicleKind.PASSENGER, 2, "核定载人数10–19人，车长小于6000mm；或乘用车列车"),
        VehicleClass(3, VehicleKind.PASSENGER, 3, "车长不小于6000mm，核定载人数不大于39人"),
        VehicleClass(4, VehicleKind.PASSENGER, 4, "车长不小于6000mm，核定载人数不小于40人"),
        *_axle_criteria(VehicleKind.TRUCK, 10),
        *_axle_criteria(VehicleKind.SPECIAL, 20),
    )
}
CLASS_CODES: frozenset[int] = frozenset(CLASSES)
CLASS_CODES_TEXT = "1–4 (客车), 11–16 (货车), 21–26 (专项作业车)"


def vehicle_class(code: int) -> VehicleClass:
    """The class of ``code``; InvalidParameter listing the valid codes otherwise."""
    found = CLASSES.get(code)
    if found is None:
        raise InvalidParameter(
            f"vehicle_class {code} is not a {STANDARD} class; valid codes: {CLASS_CODES_TEXT}",
            param="vehicle_class",
        )
    return found


@dataclass(frozen=True, slots=True)
class Vehicle:
    """What a driver knows from the registration certificate (行驶证); unknown values are None."""

    kind: VehicleKind
    _: KW_ONLY
    seats: int | None = None
    axles: int | None = None
    length_m: float | None = None
    total_mass_kg: float | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """The class a vehicle falls in, the rule that decided it and any assumption made for missing values."""

    vehicle_class: VehicleClass
    rule: str
    assumptions: list[str] = field(default_factory=list)


def _need(value: float | None, name: str, why: str) -> float:
    if value is None:
        raise InvalidParameter(f"{name} is required {why}", param=name)
    return value


def _classify_passenger(v: Vehicle) -> Classification:
    seats = int(_need(v.seats, "seats", "to classify a passenger vehicle (核定载人数)"))
    assumptions: list[str] = []
    length_mm = None if v.length_m is None else v.length_m * 1000
    if length_mm is None:
        if seats > 19:
            raise InvalidParameter("length_m is required for a passenger vehicle of more than 19 seats",
                                   param="length_m")
        length_mm = 0.0
        assumptions.append("未提供车长，按车长小于6000mm计算")
    if length_mm < SHORT_VEHICLE_MM:
        if seats <= 9:
            return Classification(CLASSES[1], f"核定载人数{seats}人（不大于9人）且车长小于6000mm", assumptions)
        if seats <= 19:
            return Classification(CLASSES[2], f"核定载人数{seats}人（10–19人）且车长小于6000mm", assumptions)
        raise InvalidParameter(f"{STANDARD} has no passenger class for {seats} seats under 6 m; "
                               "check seats and length_m against the registration certificate", param="seats")
    if seats <= 39:
        return Classification(CLASSES[3], f"车长{v.length_m:g}m（不小于6000mm）且核定载人数{seats}人（不大于39人）")
    return Classification(CLASSES[4], f"车长{v.length_m:g}m（不小于6000mm）且核定载人数{seats}人（不小于40人）")


def _classify_by_axles(v: Vehicle) -> Classification:
    base = 10 if v.kind is VehicleKind.TRUCK else 20
    axles = int(_need(v.axles, "axles", f"to classify a {v.kind.value} vehicle"))
    if axles > 2:
        rank = min(axles, MAX_AXLES_CHARGED)
        rule = f"{axles}轴" + ("（6轴以上按6类计）" if axles > MAX_AXLES_CHARGED else "")
        return Classification(CLASSES[base + rank], rule)
    length_mm = _need(v.length_m, "length_m", "for a 2-axle vehicle (6000 mm decides class 1 or 2)") * 1000
    mass = _need(v.total_mass_kg, "total_mass_kg", "for a 2-axle vehicle (4500 kg decides class 1 or 2)")
    if length_mm >= SHORT_VEHICLE_MM or mass >= LIGHT_TRUCK_KG:
        reasons = [*(["车长不小于6000mm"] if length_mm >= SHORT_VEHICLE_MM else []),
                   *(["最大允许总质量不小于4500kg"] if mass >= LIGHT_TRUCK_KG else [])]
        return Classification(CLASSES[base + 2], f"2轴，{'且'.join(reasons)}")
    return Classification(CLASSES[base + 1], f"2轴，车长{v.length_m:g}m小于6000mm且最大允许总质量{mass:g}kg小于4500kg")


def classify(vehicle: Vehicle) -> Classification:
    """The JT/T 489-2019 class of ``vehicle``; InvalidParameter names a missing or impossible value."""
    if vehicle.kind is VehicleKind.PASSENGER:
        return _classify_passenger(vehicle)
    if vehicle.axles is not None and vehicle.axles < 2:
        raise InvalidParameter("axles must be at least 2", param="axles")
    return _classify_by_axles(vehicle)
