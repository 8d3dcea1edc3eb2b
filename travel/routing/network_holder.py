"""The road network routes are searched on, kept current without making requests wait.

Building a ``RoadNetwork`` for a province takes seconds, so when the road sections change the new
one is built in a worker thread while requests are served from the old one; only the very first
request waits for a build. The live state (closures, slow-downs, traffic-control limits) is cheap
to re-sync and follows the events on every call, so a closure ingested on any process reaches this
process's next query. Routes between toll stations for quotes are kept per build and live state.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from travel.core.records import Kind, RoadEvent, RoadSection
from travel.read.readmodel import ReadModel
from travel.routing.network import LiveState, RoadNetwork, Unroutable
from travel.routing.stations import StationRoutes


class NetworkHolder:
    """The road network of one read model and its live state; ``building`` is the rebuild in flight, if any."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.network: RoadNetwork | None = None
        self.live: LiveState | None = None
        self.building: asyncio.Task[RoadNetwork] | None = None
        self._built_for = -1  # the road sections' generation the network was built from
        self._events_seen = -1
        self._stations: StationRoutes | None = None

    async def current(self) -> RoadNetwork:
        """The network for the current road sections (waiting only for the first build), live state synced."""
        generation = self.model.view(Kind.ROAD_SECTION).generation
        if generation != self._built_for and self.building is None:
            sections = [r for r in self.model.view(Kind.ROAD_SECTION).records.values() if isinstance(r, RoadSection)]
            if not sections:
                raise Unroutable("the road network is empty; import it with travel import network")
            self.building = asyncio.create_task(asyncio.to_thread(RoadNetwork, sections))
            self.building.add_done_callback(lambda task, g=generation: self._adopt(task, g))
        if self.network is None:
            assert self.building is not None
            await asyncio.shield(self.building)
        assert self.network is not None and self.live is not None
        events = self.model.view(Kind.EVENT)
        if events.generation != self._events_seen:
            self._events_seen = events.generation
            self.live.sync((r for r in events.records.values() if isinstance(r, RoadEvent)), datetime.now(UTC))
        return self.network

    async def station_routes(self) -> StationRoutes:
        """Routes between toll stations on the current network in its current live state (for quotes)."""
        network = await self.current()
        assert self.live is not None
        state = (self._built_for, self.live.version)
        if self._stations is None or self._stations.state != state:
            self._stations = StationRoutes(network, state)
        return self._stations

    def _adopt(self, task: asyncio.Task[RoadNetwork], generation: int) -> None:
        self.building = None
        if task.cancelled() or task.exception() is not None:
            return
        self.network, self.live = task.result(), LiveState(task.result())
        self._built_for, self._events_seen = generation, -1
