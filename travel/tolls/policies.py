"""Which dated notices (holiday toll-free, green channel, …) apply to one trip, and why the others do not.

A notice is judged by the exit time. The holiday rule covers passenger vehicles of 7 seats or fewer,
not all of class 1 (which goes up to 9 seats): when seats are not given for class 1 the quote assumes
a small car and says so. Declared policies (green channel, combine harvesters) apply only when the
driver declares them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from travel.core.records import Payment, TollNotice, TollPolicy
from travel.core.vehicle_classes import VehicleClass, VehicleKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Trip:
    """What the policies look at."""

    vehicle_class: VehicleClass
    seats: int | None
    payment: Payment
    at: datetime
    declared: frozenset[TollPolicy]


@dataclass(slots=True)
class Judgement:
    """Notices that apply (with the share they take off), notices that do not (with why) and assumptions."""

    applied: list[TollNotice] = field(default_factory=list)
    declined: list[tuple[TollNotice | TollPolicy, str]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def factor(self, road: str) -> Decimal:
        """What remains to pay on ``road`` after the applied notices (0: free)."""
        remaining = Decimal(1)
        for notice in self.applied:
            if not notice.roads or road in notice.roads:
                remaining *= 1 - notice.discount_percent / 100
        return remaining


def _why_not(notice: TollNotice, trip: Trip) -> str | None:
    """None when ``notice`` applies to ``trip``, else the reason in Chinese."""
    cls = trip.vehicle_class
    if notice.vehicle_classes and cls.code not in notice.vehicle_classes:
        names = "、".join(str(c) for c in notice.vehicle_classes)
        return f"仅适用于车型 {names}，本车为{cls.name}"
    if notice.payments and trip.payment not in notice.payments:
        return f"仅适用于{'、'.join('ETC' if p == 'etc' else '非ETC' for p in notice.payments)}缴费"
    if notice.max_seats is not None:
        if cls.kind is not VehicleKind.PASSENGER:
            return f"仅适用于{notice.max_seats}座及以下载客车辆"
        if trip.seats is not None and trip.seats > notice.max_seats:
            return f"仅适用于{notice.max_seats}座及以下载客车辆，本车{trip.seats}座"
        if trip.seats is None and cls.code != 1:
            return f"仅适用于{notice.max_seats}座及以下载客车辆，{cls.name}超过{notice.max_seats}座"
    return None


def judge(notices: Iterable[TollNotice], trip: Trip) -> Judgement:
    """Every notice in force at the trip's exit time, sorted into applied and declined."""
    judgement = Judgement()
    declared_found: set[TollPolicy] = set()
    for notice in notices:
        if not notice.in_force(trip.at) or (notice.declared and notice.policy not in trip.declared):
            continue
        declared_found.add(notice.policy)
        reason = _why_not(notice, trip)
        if reason is not None:
            judgement.declined.append((notice, reason))
            continue
        judgement.applied.append(notice)
        if notice.max_seats is not None and trip.seats is None:
            judgement.assumptions.append(
                f"未提供座位数：按{notice.max_seats}座及以下小型客车计算；8–9座的一类客车不享受《{notice.title}》，"
                "请用 seats 参数提供核定载人数")
    for policy in sorted(trip.declared - declared_found):
        judgement.declined.append((policy, f"出口时间 {trip.at.isoformat()} 没有生效的{POLICY_ZH[policy]}公告"))
    return judgement


POLICY_ZH: dict[TollPolicy, str] = {
    TollPolicy.HOLIDAY_FREE: "重大节假日小型客车免费通行",
    TollPolicy.GREEN_CHANNEL: "鲜活农产品运输绿色通道",
    TollPolicy.COMBINE_HARVESTER: "跨区作业联合收割机免费通行",
    TollPolicy.EXEMPTION: "免收通行费",
    TollPolicy.DISCOUNT: "通行费优惠",
}
