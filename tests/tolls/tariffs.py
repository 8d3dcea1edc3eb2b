"""A tiny synthetic charged network (three stations on one road) and helpers to quote over it and the bundle."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from geodata.loader import read_bundle
from travel.core.geometry import Geometry
from travel.core.records import Poi, Record, RoadSection, TollNotice, TollRate, TollRules, TollSection
from travel.core.vehicle_classes import vehicle_class
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.network_holder import NetworkHolder
from travel.routing.planner import Planner
from travel.routing.stations import StationRoutes
from travel.tolls.book import TollBooks
from travel.tolls.quote import QuoteRequest, quote

CST = timezone(timedelta(hours=8))
T0 = datetime(2020, 1, 1, tzinfo=CST)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CST)


def _identity(source_id: str, version: int = 1) -> dict[str, Any]:
    return {"id": f"t:{source_id}", "source": "t", "source_id": source_id, "version": version, "updated_at": T0}


def rules(version: int = 1, **kw: Any) -> TollRules:
    """Rules as the 2020 national reform set them: ETC 5 % off to the fen, cash rounded to the yuan."""
    data = {**_identity("rules", version), "rule_version": f"test-{version}", "title": "测试规则",
            "document": "国办发〔2019〕23号", "effective_from": T0, "etc_discount_percent": Decimal(5)}
    return TollRules(**{**data, **kw})


def rate(section: str, cls: int, fen_per_km: int, *, since: datetime = T0, until: datetime | None = None,
         version: int = 1) -> TollRate:
    """One rate row."""
    return TollRate(**_identity(f"rate-{section}-{cls}-{since:%Y%m%d}", version), toll_section=f"t:{section}",
                    vehicle_class=cls, fen_per_km=fen_per_km, effective_from=since, effective_to=until)


def notice(source_id: str, **kw: Any) -> TollNotice:
    """A notice; give policy, title, starts_at and whatever else the test needs."""
    return TollNotice(**{**_identity(source_id), **kw})


def line(stations_km: Iterable[float]) -> list[Record]:
    """Road S1 with a station at each km mark (0.1° of longitude apart per 10 km) and one toll section
    per gap, all at 45 fen/km for class 1 and 90 for class 12."""
    marks = list(stations_km)
    records: list[Record] = []
    for n, km in enumerate(marks):
        records.append(Poi(**_identity(f"st{n}"), poi_kind="toll_station", name=f"测试{n}收费站", road="S1",
                           geometry=Geometry.point(113.0 + km / 100, 34.0)))
    for n, (a, b) in enumerate(zip(marks, marks[1:], strict=False)):
        coords = [[113.0 + a / 100, 34.0], [113.0 + b / 100, 34.0]]
        records.append(RoadSection(**_identity(f"s{n}"), geometry=Geometry(type="LineString", coordinates=coords),
                                   road="S1", road_name="测试高速", road_class="expressway", from_node=f"n{n}",
                                   to_node=f"n{n + 1}", start_stake_m=a * 1000, end_stake_m=b * 1000,
                                   speed_kmh=120, toll=True))
        records.append(TollSection(**_identity(f"ts{n}"), geometry=Geometry(type="LineString", coordinates=coords),
                                   road="S1", name=f"测试{n}—测试{n + 1}", road_sections=[f"t:s{n}"],
                                   length_m=(b - a) * 1000))
        records.extend([rate(f"ts{n}", 1, 45), rate(f"ts{n}", 12, 90)])
    records.append(rules())
    return records


@dataclass(frozen=True, slots=True)
class Served:
    """A read model with what the app makes over it to answer quotes and routes, wired as ``create_app`` does."""

    model: ReadModel
    books: TollBooks
    network: NetworkHolder
    planner: Planner


def serve(records: Iterable[Record]) -> Served:
    """``records`` in a read model of their own, served."""
    model = ReadModel()
    model.apply(records)
    places = PlaceResolver(model)
    books = TollBooks(model, places)
    network = NetworkHolder(model)
    return Served(model, books, network, Planner(model, network, books, places))


@cache
def bundle() -> Served:
    """The bundled Henan data, served (built once per test session)."""
    return serve(r for records in read_bundle().values() for r in records)


def routes_of(served: Served) -> StationRoutes:
    """The planner's routes between stations on the current network (built now if the sections changed)."""

    async def settled() -> StationRoutes:
        await served.network.current()
        if served.network.building is not None:  # the sections changed: wait for the rebuild the API would serve next
            await served.network.building
        return await served.network.station_routes()

    return asyncio.run(settled())


def ask(served: Served, origin: str, destination: str, cls: int = 1, payment: str = "etc",
        at: datetime = NOW, **kw: Any) -> dict[str, Any]:
    """A quote as the API would answer it."""
    return quote(served.books.current(), routes_of(served),
                 QuoteRequest(origin=origin, destination=destination, vehicle_class=vehicle_class(cls),
                              payment=payment, at=at, **kw))
