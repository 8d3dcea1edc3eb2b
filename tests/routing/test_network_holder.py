"""The network holder: a rebuild off the loop serves the old network meanwhile; events only re-sync the live state."""

from __future__ import annotations

from tests.factories import event
from tests.routing.test_planner import square
from travel.read.readmodel import ReadModel
from travel.routing.network_holder import NetworkHolder

CLOSURE = dict(type="closure", road="S1", direction="both", start_stake_m=2_000.0, end_stake_m=3_000.0,
               description="S1封闭", geometry=None)


async def test_a_change_of_sections_is_built_aside_while_the_old_network_serves() -> None:
    model = ReadModel()
    model.apply(square())
    holder = NetworkHolder(model)
    first = await holder.current()  # the first build is waited for
    assert holder.building is None
    moved = first.records[first.position["geodata:bc"]]
    model.apply([moved.model_copy(update={"version": 2, "speed_kmh": 60.0})])
    assert await holder.current() is first and holder.building is not None  # old network served meanwhile
    await holder.building
    rebuilt = await holder.current()
    assert rebuilt is not first and rebuilt.records[rebuilt.position["geodata:bc"]].speed_kmh == 60.0


async def test_events_resync_the_live_state_on_the_same_network_and_renew_the_station_routes() -> None:
    model = ReadModel()
    model.apply(square())
    holder = NetworkHolder(model)
    network = await holder.current()
    before = await holder.station_routes()
    assert await holder.station_routes() is before  # nothing changed: the same routes (and their cache)
    model.apply([event("s1", **CLOSURE)])
    assert await holder.current() is network and holder.building is None
    assert holder.live is not None and holder.live.closed_by == {network.position["geodata:ab"]: ["gsj:s1"]}
    during = await holder.station_routes()
    assert during is not before and during.state != before.state
    model.apply([event("s1", version=2, status="cleared", **CLOSURE)])
    assert (await holder.current()) is network and holder.live.closed_by == {}
