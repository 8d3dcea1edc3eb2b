"""A record is the same GeoJSON feature in a list (from the memoized bytes) and by id (serialized whole)."""

from __future__ import annotations

import pytest

from tests.conftest import seed
from tests.factories import event


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
async def test_a_feature_by_id_is_the_lists_feature_with_its_history(app_client, crs: str) -> None:  # noqa: ANN001
    await seed(app_client.server.app, [
        event("1", lon=113.85, lat=34.04, severity="major", type="closure"),
        event("2", lon=113.85, lat=34.08, road="G4", type="construction", end_stake_m=652000.0),
        event("2", version=2, lon=113.85, lat=34.08, road="G4", type="construction", status="cleared"),
    ])
    listed = await (await app_client.get("/v1/events", params={"active": "all", "crs": crs})).json(content_type=None)
    assert {f["id"] for f in listed["features"]} == {"gsj:1", "gsj:2"}
    for in_list in listed["features"]:
        resp = await app_client.get(f"/v1/events/{in_list['id']}", params={"crs": crs})
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/geo+json"
        alone = await resp.json(content_type=None)
        history = alone["properties"].pop("history")
        assert alone == in_list
        assert [v["version"] for v in history] == list(range(1, in_list["properties"]["version"] + 1))
