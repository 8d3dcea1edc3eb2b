"""JT/T 489-2019 classification: worked examples from the standard, its boundaries, and the endpoint."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travel.core.errors import InvalidParameter
from travel.core.vehicle_classes import CLASS_CODES, CLASSES, Vehicle, VehicleKind, classify, vehicle_class

P, T, S = VehicleKind.PASSENGER, VehicleKind.TRUCK, VehicleKind.SPECIAL


# Source: JT/T 489-2019 表1 (客车), 表2 (货车), 表3 (专项作业车); 交通运输部 2019-05 notice of the
# revision: 8–9-seat vehicles under 6 m moved from class 2 to class 1; trucks charged by axles.
@pytest.mark.parametrize(("vehicle", "code", "name"), [
    (Vehicle(P, seats=5, length_m=4.8), 1, "一类客车"),
    (Vehicle(P, seats=9, length_m=5.3), 1, "一类客车"),  # the 2019 change: 9 seats is class 1
    (Vehicle(P, seats=10, length_m=5.3), 2, "二类客车"),
    (Vehicle(P, seats=19, length_m=5.99), 2, "二类客车"),
    (Vehicle(P, seats=19, length_m=6.0), 3, "三类客车"),  # 6000 mm is already a large bus
    (Vehicle(P, seats=39, length_m=10.5), 3, "三类客车"),
    (Vehicle(P, seats=40, length_m=12.0), 4, "四类客车"),
    (Vehicle(T, axles=2, length_m=5.99, total_mass_kg=4499), 11, "一类货车"),
    (Vehicle(T, axles=2, length_m=5.99, total_mass_kg=4500), 12, "二类货车"),  # 4.5 t boundary
    (Vehicle(T, axles=2, length_m=6.0, total_mass_kg=3000), 12, "二类货车"),  # 6 m boundary
    (Vehicle(T, axles=3), 13, "三类货车"),
    (Vehicle(T, axles=5), 15, "五类货车"),
    (Vehicle(T, axles=6), 16, "六类货车"),
    (Vehicle(S, axles=2, length_m=7.0, total_mass_kg=9000), 22, "二类专项作业车"),
    (Vehicle(S, axles=4), 24, "四类专项作业车"),
])
def test_worked_examples_of_the_standard(vehicle: Vehicle, code: int, name: str) -> None:
    found = classify(vehicle)
    assert (found.vehicle_class.code, found.vehicle_class.name) == (code, name)
    assert found.rule


def test_more_than_six_axles_is_class_six_and_says_so() -> None:
    found = classify(Vehicle(T, axles=8))
    assert found.vehicle_class.code == 16 and "6轴以上按6类计" in found.rule


def test_a_missing_length_for_a_small_bus_is_assumed_and_said() -> None:
    found = classify(Vehicle(P, seats=7))
    assert found.vehicle_class.code == 1 and found.assumptions == ["未提供车长，按车长小于6000mm计算"]


@pytest.mark.parametrize(("vehicle", "param"), [
    (Vehicle(P), "seats"),
    (Vehicle(P, seats=25), "length_m"),
    (Vehicle(P, seats=25, length_m=5.0), "seats"),
    (Vehicle(T), "axles"),
    (Vehicle(T, axles=2, length_m=5.0), "total_mass_kg"),
    (Vehicle(T, axles=1), "axles"),
])
def test_missing_or_impossible_values_name_the_parameter(vehicle: Vehicle, param: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        classify(vehicle)
    assert err.value.param == param


@pytest.mark.parametrize("code", [0, 5, 10, 17, 20, 27])
def test_unknown_codes_list_the_valid_ones(code: int) -> None:
    with pytest.raises(InvalidParameter, match="1–4 .*11–16 .*21–26"):
        vehicle_class(code)


def test_codes_names_and_ranks_are_consistent() -> None:
    assert sorted(CLASS_CODES) == [1, 2, 3, 4, *range(11, 17), *range(21, 27)]
    assert {c.name for c in CLASSES.values()} >= {"一类客车", "四类客车", "六类货车", "六类专项作业车"}


@given(kind=st.sampled_from([T, S]), axles=st.integers(2, 12), length=st.floats(2, 25),
       mass=st.floats(500, 60_000), more=st.integers(0, 4))
def test_more_axles_never_lowers_the_class(kind: VehicleKind, axles: int, length: float, mass: float,
                                           more: int) -> None:
    lower = classify(Vehicle(kind, axles=axles, length_m=length, total_mass_kg=mass)).vehicle_class
    higher = classify(Vehicle(kind, axles=axles + more, length_m=length, total_mass_kg=mass)).vehicle_class
    assert higher.rank >= lower.rank and higher.kind is lower.kind is kind
