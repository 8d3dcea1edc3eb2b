"""Whole answers of /v1/routes (and the quotes and places that share its parts) pinned as they were.

The planner, the toll book and the place resolver are refactored without changing a byte of what
they answer; the other tests check properties, this one checks everything at once. The answers
were captured from the code before the planner was split (``pinned_answers.json``). When an answer
changes on purpose, rewrite the file with ``TRAVEL_PIN_ANSWERS=write`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import READ_MODEL
from tests.conftest import seed, wait_ready
from tests.factories import event, section
from travel.core.geometry import Geometry
from travel.core.records import Alert, Kind, RoadSection
from travel.core.settings import Settings

PINNED = Path(__file__).with_name("pinned_answers.json")
DEPART = "2026-11-24T09:00:00+08:00"
AT = "2026-11-24T10:00:00+08:00"
SENT = datetime(2026, 11, 24, tzinfo=UTC)

# (name, path, query) asked on the bundled data as loaded
OPEN: list[tuple[str, str, dict[str, str]]] = [
    ("zhengzhou-luoyang", "/v1/routes", {"from": "郑州", "to": "洛阳", "alternatives": "1"}),
    ("station-nanyang-truck", "/v1/routes", {"from": "郑州收费站", "to": "南阳", "alternatives": "2",
                                             "vehicle_class": "12"}),
    ("via-cheapest", "/v1/routes", {"from": "郑州", "to": "洛阳", "via": "开封", "optimize": "cheapest"}),
    ("no-tolls-shortest", "/v1/routes", {"from": "郑州", "to": "洛阳", "avoid": "closures,tolls",
                                         "optimize": "shortest"}),
    ("heavy-cash-gcj02", "/v1/routes", {"from": "许昌", "to": "113.93,35.31", "vehicle_class": "15",
                                        "payment": "cash", "crs": "gcj02", "height_m": "4.2"}),
    ("holiday-seats", "/v1/routes", {"from": "开封收费站", "to": "商丘收费站", "seats": "7",
                                     "depart_at": "2026-10-02T09:00:00+08:00"}),
    ("not-a-point", "/v1/routes", {"from": "郑州", "to": "G4"}),
    ("quote-cities", "/v1/tolls/quote", {"from": "郑州", "to": "南阳", "vehicle_class": "13", "at": AT,
                                         "geometry": "true"}),
    ("quote-stations-cash", "/v1/tolls/quote", {"from": "许昌收费站", "to": "信阳收费站", "payment": "cash",
                                                "at": AT}),
    ("places-xuchang", "/v1/places", {"q": "许昌", "limit": "20"}),
]
# asked after a G30 closure near 巩义 and a closed spur off G30 at 洛阳 are seeded
CLOSED: list[tuple[str, str, dict[str, str]]] = [
    ("closure-avoided", "/v1/routes", {"from": "郑州北收费站", "to": "洛阳收费站", "alternatives": "1"}),
    ("quote-around-closure", "/v1/tolls/quote", {"from": "郑州收费站", "to": "洛阳收费站", "at": AT}),
    ("spur-cut-off", "/v1/routes", {"from": "郑州北收费站", "to": "{spur_end}"}),
    ("island", "/v1/routes", {"from": "111.02,33.0", "to": "郑州"}),
    ("island-no-tolls", "/v1/routes", {"from": "111.02,33.0", "to": "郑州", "avoid": "closures,tolls"}),
]


async def _ask(client: TestClient, path: str, query: dict[str, str], **fill: str) -> dict[str, Any]:
    params = {k: v.format(**fill) for k, v in query.items()}
    if path == "/v1/routes":
        params.setdefault("depart_at", DEPART)
    response = await client.get(path, params=params)
    return {"status": response.status, "body": json.loads(await response.text())}


def _check(got: dict[str, Any]) -> None:
    """``got`` equals the pinned answers of the same names (written first with TRAVEL_PIN_ANSWERS=write)."""
    pinned = json.loads(PINNED.read_text(encoding="utf-8")) if PINNED.exists() else {}
    if os.environ.get("TRAVEL_PIN_ANSWERS") == "write":
        pinned |= got
        PINNED.write_text(json.dumps(pinned, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, answer in got.items():
        assert answer == pinned[name], name


async def _bundled(aiohttp_client, tmp_path: Path) -> TestClient:  # noqa: ANN001
    app = create_app(Settings(data_dir=tmp_path, load_geodata=True))
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


async def test_the_answers_on_the_bundled_data_are_what_they_were(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    client = await _bundled(aiohttp_client, tmp_path)
    _check({name: await _ask(client, path, query) for name, path, query in OPEN})


async def test_the_answers_around_closures_are_what_they_were(aiohttp_client, tmp_path: Path) -> None:  # noqa: ANN001
    client = await _bundled(aiohttp_client, tmp_path)
    app = client.server.app
    g30 = next(r for r in app[READ_MODEL].view(Kind.ROAD_SECTION).records.values()
               if isinstance(r, RoadSection) and r.road == "G30" and r.to_node.endswith("luoyang"))
    x, y = g30.geometry.coordinates[-1]
    # seeded before the first route is asked for, so the network is built with them
    await seed(app, [
        event("g30-gongyi", type="closure", severity="severe", road="G30", road_name="连霍高速", direction="both",
              start_stake_m=600_000.0, end_stake_m=620_000.0, description="连霍高速巩义段交通事故，双向封闭",
              geometry=None),
        section("spur", [(x, y), (x, y + 0.05)], road="S98", road_name="测试支线", road_class="provincial",
                from_node=g30.to_node, to_node="spur-end", start_stake_m=0.0, end_stake_m=5_500.0, toll=False),
        event("spur-closed", type="closure", severity="severe", road="S98", start_stake_m=1_000.0,
              end_stake_m=2_000.0, description="测试支线塌方封闭", geometry=None),
        section("island", [(111.0, 33.0), (111.05, 33.0)], road="S99", road_name="测试孤岛路",
                road_class="provincial"),
        event("jam", type="congestion", severity="major", road="G30", start_stake_m=570_000.0,
              end_stake_m=580_000.0, description="连霍高速车多缓行", reduced_speed_kmh=80.0, geometry=None),
        Alert(id="cma:fog", source="cma", source_id="fog", version=1, updated_at=SENT, identifier="fog",
              sender="cma", sent=SENT, event="大雾", expires=SENT.replace(year=2100),
              geometry=Geometry.point(113.647737, 34.824462)),
    ])
    _check({name: await _ask(client, path, query, spur_end=f"{x},{y + 0.05}") for name, path, query in CLOSED})
