"""Everything feed-related one process runs, created and stopped together by the app."""

from __future__ import annotations

from collections.abc import Callable

from travel.core.settings import Settings
from travel.ingest.health import HealthBoard, SourceStatus, StaleWatch, describe, utcnow
from travel.ingest.leases import make_leases
from travel.ingest.pipeline import Ingestor
from travel.ingest.scheduler import FeedScheduler
from travel.ingest.signing import ReplayGuard
from travel.ingest.sources import Sources
from travel.read.readmodel import ReadModel
from travel.store.base import Store
from travel.store.bus import ChangeBus


class Feeds:
    """Sources, their health, the ingest pipeline, the poll scheduler and the push replay guard."""

    def __init__(self, settings: Settings, store: Store, bus: ChangeBus, model: ReadModel, sources: Sources,
                 on_poll: Callable[[str, str], None] | None = None) -> None:
        self.sources = sources
        self.model = model
        self.health = HealthBoard(settings.redis_url)
        self.stale = StaleWatch(sources, self.health)
        self.ingestor = Ingestor(store, bus, model, self.health)
        self.replays = ReplayGuard(settings.redis_url)
        self.scheduler = FeedScheduler(sources, self.ingestor, self.health, make_leases(settings.redis_url), on_poll)
        self.started = False

    def start(self) -> None:
        """Begin polling."""
        self.scheduler.start()
        self.started = True

    async def stop(self) -> None:
        """Stop polling and release leases and connections."""
        await self.scheduler.stop()
        await self.health.close()
        await self.replays.close()

    async def overview(self) -> list[SourceStatus]:
        """Every source's public health, with the records it has in the read model."""
        shared = await self.health.refresh(c.id for c in self.sources)
        counts = self.model.counts_by_source()
        now = utcnow()
        return [describe(c, shared[c.id], self.health.started, now, counts.get(c.id, {})) for c in self.sources]
