"""Quotes: the published charging rules worked through, and their general properties on the bundled network."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.tolls.tariffs import CST, NOW, ask, bundle, line, notice, rate, routes_of, rules, serve
from travel.core.records import Kind, TollPolicy
from travel.core.vehicle_classes import CLASSES, VehicleKind, vehicle_class
from travel.tolls.policies import Trip
from travel.tolls.quote import Unquotable, charged, trips_toll
from travel.tolls.tariff import NotPriced

STATIONS = sorted(s.id for s in bundle().books.current().network.stations)
PASSENGER = [c for c, v in CLASSES.items() if v.kind is VehicleKind.PASSENGER]
TRUCK = [c for c, v in CLASSES.items() if v.kind is VehicleKind.TRUCK]
pairs = st.tuples(st.sampled_from(STATIONS), st.sampled_from(STATIONS)).filter(lambda p: p[0] != p[1])
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- worked examples
# Source of the rules: 国办发〔2019〕23号 (ETC discount of at least 5 %) and the 2020 charging rule
# that ETC is charged to the fen and non-ETC (CPC card) rounded half up to the whole yuan.
def test_ten_km_at_45_fen_etc_to_the_fen_and_cash_to_the_yuan() -> None:
    served = serve(line([0, 10]))
    etc = ask(served, "t:st0", "t:st1", payment="etc")
    cash = ask(served, "t:st0", "t:st1", payment="cash")
    assert etc["sections"][0] | {"km": 10.0, "fen_per_km": 45, "base_fen": 450, "amount_fen": 428} == etc["sections"][0]
    assert etc["amount_fen"] == 428  # 450 × 0.95 = 427.5 → 428 fen, half up
    assert cash["amount_fen"] == 500 and cash["subtotal_fen"] == 450 and cash["adjustment_fen"] == 50  # 4.50 → 5 元
    assert [p["policy"] for p in cash["policies"]] == ["cash_rounding"]


def test_etc_is_capped_at_the_cash_price_when_rounding_favours_cash() -> None:
    served = serve(line([0, 3]))
    etc = ask(served, "t:st0", "t:st1", payment="etc")
    # 3 km × 45 = 135 fen; ETC 128.25 → 128 fen; cash 1.35 元 → 1 元: ETC may not pay more than cash
    assert etc["subtotal_fen"] == 128 and etc["amount_fen"] == 100 and etc["adjustment_fen"] == -28
    assert "etc_not_above_cash" in [p["policy"] for p in etc["policies"]]


def test_sections_are_summed_in_driving_order_and_rounded_each() -> None:
    served = serve(line([0, 10.011, 23.5]))
    q = ask(served, "t:st0", "t:st2", cls=12)
    assert [s["id"] for s in q["sections"]] == ["t:ts0", "t:ts1"]
    assert [s["base_fen"] for s in q["sections"]] == [901, 1214]  # 10.011 × 90 = 900.99; 13.489 × 90 = 1214.01
    assert q["subtotal_fen"] == sum(s["amount_fen"] for s in q["sections"]) == 856 + 1153


def test_rates_follow_their_effective_dates_by_exit_time() -> None:
    switch = datetime(2026, 7, 1, tzinfo=CST)
    old = rate("ts0", 1, 45, until=switch)
    records = [r for r in line([0, 10]) if r.id != old.id] + [old, rate("ts0", 1, 50, since=switch)]
    served = serve(records)
    before = ask(served, "t:st0", "t:st1", payment="cash", at=switch - timedelta(seconds=1))
    after = ask(served, "t:st0", "t:st1", payment="cash", at=switch)
    assert (before["sections"][0]["fen_per_km"], after["sections"][0]["fen_per_km"]) == (45, 50)
    with pytest.raises(NotPriced, match="no 一类客车 rate"):
        ask(served, "t:st0", "t:st1", at=datetime(2019, 12, 31, tzinfo=CST))


def test_a_rule_set_can_give_a_deeper_etc_discount_and_a_minimum_charge() -> None:
    records = [r for r in line([0, 2]) if r.kind is not Kind.TOLL_RULES]
    served = serve([*records, rules(etc_discount_percent=Decimal(10), minimum_fen={1: 500}, cash_rounding="fen")])
    q = ask(served, "t:st0", "t:st1", payment="cash")
    assert q["subtotal_fen"] == 90 and q["amount_fen"] == 500 and q["rule_version"] == "test-1"


# --------------------------------------------------------------------------- holidays and declared policies
HOLIDAY = dict(policy=TollPolicy.HOLIDAY_FREE, title="国庆节假期小型客车免费通行", document="国发〔2012〕37号",
               starts_at=datetime(2026, 10, 1, tzinfo=CST), ends_at=datetime(2026, 10, 8, tzinfo=CST),
               vehicle_classes=[1], max_seats=7)


@pytest.mark.parametrize(("exit_time", "free"), [
    ("2026-09-30T23:59:59+08:00", False),
    ("2026-10-01T00:00:00+08:00", True),
    ("2026-09-30T16:00:00+00:00", True),  # the same instant in UTC
    ("2026-10-07T23:59:59+08:00", True),
    ("2026-10-08T00:00:00+08:00", False),
])
def test_holiday_passage_is_judged_by_the_exit_time_to_the_second(exit_time: str, free: bool) -> None:
    served = serve([*line([0, 10]), notice("national", **HOLIDAY)])
    q = ask(served, "t:st0", "t:st1", at=datetime.fromisoformat(exit_time), seats=5)
    assert (q["amount_fen"] == 0) is free
    assert ("t:national" in [p["id"] for p in q["policies"]]) is free


def test_holiday_passage_is_for_seven_seats_or_fewer_not_all_of_class_one() -> None:
    served = serve([*line([0, 10]), notice("national", **HOLIDAY)])
    at = datetime(2026, 10, 3, 12, tzinfo=CST)
    normal = ask(served, "t:st0", "t:st1", at=NOW)["amount_fen"]
    assert ask(served, "t:st0", "t:st1", at=at, seats=5)["amount_fen"] == 0
    nine = ask(served, "t:st0", "t:st1", at=at, seats=9)
    assert nine["amount_fen"] == normal and nine["not_applied"][0]["detail"] == "仅适用于7座及以下载客车辆，本车9座"
    truck = ask(served, "t:st0", "t:st1", cls=12)["amount_fen"]
    assert ask(served, "t:st0", "t:st1", cls=12, at=at)["amount_fen"] == truck
    assumed = ask(served, "t:st0", "t:st1", at=at)
    assert assumed["amount_fen"] == 0 and "未提供座位数" in assumed["assumptions"][0]


def test_the_green_channel_applies_only_when_declared_and_only_to_trucks() -> None:
    green = notice("green", policy=TollPolicy.GREEN_CHANNEL, title="鲜活农产品运输绿色通道",
                   starts_at=datetime(2020, 1, 1, tzinfo=CST), vehicle_classes=list(range(11, 17)))
    served = serve([*line([0, 10]), green])
    declared = frozenset({TollPolicy.GREEN_CHANNEL})
    assert ask(served, "t:st0", "t:st1", cls=12)["amount_fen"] > 0
    assert ask(served, "t:st0", "t:st1", cls=12, declared=declared)["amount_fen"] == 0
    car = ask(served, "t:st0", "t:st1", cls=1, declared=declared)
    assert car["amount_fen"] > 0 and car["not_applied"][0]["detail"].startswith("仅适用于车型 11")
    harvest = ask(served, "t:st0", "t:st1", cls=12, declared=frozenset({TollPolicy.COMBINE_HARVESTER}))
    assert harvest["amount_fen"] > 0
    assert "没有生效的跨区作业联合收割机免费通行公告" in harvest["not_applied"][0]["detail"]


def test_a_discount_notice_on_one_road_takes_its_share_off_that_road_only() -> None:
    off = notice("s1-off", policy=TollPolicy.DISCOUNT, title="S1货车通行费八五折", discount_percent=Decimal(15),
                 starts_at=datetime(2026, 1, 1, tzinfo=CST), vehicle_classes=[12], roads=["S1"], payments=["etc"])
    served = serve([*line([0, 10]), off])
    assert ask(served, "t:st0", "t:st1", cls=12)["amount_fen"] == 727  # 900 × 0.85 × 0.95 = 726.75
    assert ask(served, "t:st0", "t:st1", cls=12, payment="cash")["amount_fen"] == 900


# --------------------------------------------------------------------------- properties on the bundle
@SOME
@given(pair=pairs, cls=st.sampled_from(sorted(CLASSES)), payment=st.sampled_from(["etc", "cash"]))
def test_a_quote_is_the_sum_of_its_sections(pair: tuple[str, str], cls: int, payment: str) -> None:
    q = ask(bundle(), *pair, cls=cls, payment=payment)
    assert q["subtotal_fen"] == sum(s["amount_fen"] for s in q["sections"])
    assert q["amount_fen"] == q["subtotal_fen"] + q["adjustment_fen"]
    assert abs(q["adjustment_fen"]) <= 50 * q["trips"] or payment == "etc"  # cash rounds each trip
    assert q["charged_km"] == pytest.approx(sum(s["km"] for s in q["sections"]))
    for s in q["sections"]:
        assert s["base_fen"] == int((Decimal(str(s["km"])) * s["fen_per_km"]).quantize(Decimal(1), "ROUND_HALF_UP"))


@SOME
@given(pair=pairs, cls=st.sampled_from(sorted(CLASSES)), payment=st.sampled_from(["etc", "cash"]))
def test_a_quote_is_symmetric_where_the_rates_are(pair: tuple[str, str], cls: int, payment: str) -> None:
    there = ask(bundle(), pair[0], pair[1], cls=cls, payment=payment)
    back = ask(bundle(), pair[1], pair[0], cls=cls, payment=payment)
    assert there["amount_fen"] == back["amount_fen"]
    assert there["distance_km"] == pytest.approx(back["distance_km"], abs=0.002)


@SOME
@given(pair=pairs, family=st.sampled_from([PASSENGER, TRUCK]), payment=st.sampled_from(["etc", "cash"]))
def test_higher_classes_never_pay_less_on_the_same_path(pair: tuple[str, str], family: list[int],
                                                        payment: str) -> None:
    # Classes may be routed differently (a slower vehicle takes a shorter free road), so one path is priced for all.
    book = bundle().books.current()
    entry, exit_ = (book.network.by_id[s] for s in pair)
    path = routes_of(bundle()).between(entry, exit_, vehicle_class(family[0]))
    assume(path is not None and path.trips)
    assert path is not None
    trips = [Trip(vehicle_class=vehicle_class(c), seats=None, payment=payment, at=NOW, declared=frozenset())
             for c in family]
    amounts = [trips_toll(book, charged(book, path.trips, trip), trip)["amount_fen"] for trip in trips]
    assert amounts == sorted(amounts)


@SOME
@given(pair=pairs, cls=st.sampled_from(sorted(CLASSES)))
def test_etc_is_never_dearer_than_cash(pair: tuple[str, str], cls: int) -> None:
    q = ask(bundle(), *pair, cls=cls)
    assert q["amount_fen"] <= ask(bundle(), *pair, cls=cls, payment="cash")["amount_fen"]
    assert q["amounts_fen"]["etc"] <= q["amounts_fen"]["cash"]


# --------------------------------------------------------------------------- places and paths on the bundle
def test_cities_resolve_to_their_stations_and_the_cheapest_pair_is_used() -> None:
    q = ask(bundle(), "郑州", "南阳", cls=13)
    assert q["from"]["place"] == {"kind": "city", "id": "410100", "name": "郑州市"}
    assert q["from"]["stations_priced"] > 1 and q["to"]["stations_priced"] > 1
    pairs_priced = q["priced_pairs"]
    used = (q["from"]["station"]["name"], q["to"]["station"]["name"])
    assert (pairs_priced[0]["from"], pairs_priced[0]["to"]) == used
    assert [p["base_fen"] for p in pairs_priced] == sorted(p["base_fen"] for p in pairs_priced)


def test_a_named_station_is_used_as_given_and_the_path_follows_g30() -> None:
    q = ask(bundle(), "郑州收费站", "洛阳收费站", geometry=True)
    assert (q["from"]["station"]["name"], q["to"]["station"]["name"]) == ("郑州收费站", "洛阳收费站")
    assert {s["road"] for s in q["sections"]} >= {"G30"}
    coords = q["geometry"]["coordinates"]
    assert coords[0] == pytest.approx([q["from"]["station"]["lon"], q["from"]["station"]["lat"]], abs=1e-4)
    assert coords[-1] == pytest.approx([q["to"]["station"]["lon"], q["to"]["station"]["lat"]], abs=1e-4)


def test_bridges_are_charged_at_their_own_rates() -> None:
    q = ask(bundle(), "原阳收费站", "郑州收费站")
    bridge = next(s for s in q["sections"] if s["special"] == "bridge")
    plain = next(s for s in q["sections"] if s["special"] is None)
    assert "黄河" in bridge["name"] and bridge["fen_per_km"] > plain["fen_per_km"]


def test_coordinates_use_the_nearest_stations() -> None:
    station = bundle().books.current().network.by_id["geodata:toll-G4-xuchang"]
    q = ask(bundle(), f"{station.lon + 0.01},{station.lat}", "郑州收费站")
    assert q["from"]["place"]["kind"] == "coordinates" and q["from"]["station"]["name"] == "许昌收费站"


@pytest.mark.parametrize(("origin", "destination", "words"), [
    ("郑州", "郑州市", "same place"),
    ("郑州收费站", "geodata:toll-G4-zhengzhou", "same toll station"),
    ("120.0,40.0", "郑州", "no toll station within 30 km of 120.000000,40.000000; the nearest is"),
    ("G4", "郑州", "not a place to enter or leave"),
    ("不存在的地方", "郑州", "no place matches"),
])
def test_unanswerable_quotes_say_why(origin: str, destination: str, words: str) -> None:
    with pytest.raises(Unquotable, match=words):
        ask(bundle(), origin, destination)


def test_seats_that_contradict_the_class_are_refused() -> None:
    with pytest.raises(Exception, match="does not fit 一类客车"):
        ask(bundle(), "郑州收费站", "洛阳收费站", seats=12)
    with pytest.raises(Exception, match="seats applies to passenger classes"):
        ask(bundle(), "郑州收费站", "洛阳收费站", cls=12, seats=2)


# --------------------------------------------------------------------------- caching
def test_cached_quotes_follow_rate_notice_and_network_changes() -> None:
    records = line([0, 10, 20])
    served = serve(records)
    first = ask(served, "t:st0", "t:st2", payment="cash")
    assert ask(served, "t:st0", "t:st2", payment="cash") is first  # served from the cache
    served.model.apply([rate("ts1", 1, 60, version=2)])
    assert ask(served, "t:st0", "t:st2", payment="cash")["amount_fen"] == 1100  # 450 + 600 → 10.50 元 → 11 元
    served.model.apply([notice("free", policy=TollPolicy.EXEMPTION, title="测试免费",
                               starts_at=NOW - timedelta(days=1))])
    assert ask(served, "t:st0", "t:st2", payment="cash")["amount_fen"] == 0
    section = served.model.view(Kind.ROAD_SECTION).records["t:s1"]
    served.model.apply([section.model_copy(update={"version": 2, "end_stake_m": 30_000.0})])
    longer = ask(served, "t:st0", "t:st2", at=NOW - timedelta(days=2), payment="cash")
    assert longer["distance_km"] == 30.0
