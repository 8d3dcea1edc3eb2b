"""Prometheus metrics, one registry per app so several apps (tests) never collide."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class _RecordCounts(Collector):
    """Records held in the read model per kind, read at scrape time."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("travel_records", "Current records in the read model", labels=["kind"])
        for kind, n in sorted(self._counts().items()):
            family.add_metric([kind], n)
        yield family


class _StaleSources(Collector):
    """Stale sources and the age of their last good data, read at scrape time."""

    def __init__(self, ages: Callable[[], Mapping[str, float]]) -> None:
        self._ages = ages

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("travel_source_stale_age_seconds",
                                   "Age of the last good data of each stale source", labels=["source"])
        for source, age in sorted(self._ages().items()):
            family.add_metric([source], age)
        yield family


class Metrics:
    """The service's metrics and their registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "travel_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "travel_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.polls = Counter("travel_source_polls", "Feed polls by outcome", ["source", "outcome"],
                             registry=self.registry)
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one request (label children are cached: ``labels()`` is slow)."""
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(method, route, str(status))
        timer = self._timers.get(route)
        if timer is None:
            timer = self._timers[route] = self.latency.labels(route)
        counter.inc()
        timer.observe(seconds)

    def watch_records(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Export per-kind record counts from ``counts()``."""
        self.registry.register(_RecordCounts(counts))

    def watch_sources(self, stale_ages: Callable[[], Mapping[str, float]]) -> None:
        """Export the stale sources from ``stale_ages()``."""
        self.registry.register(_StaleSources(stale_ages))

    def count_poll(self, source: str, outcome: str) -> None:
        """Count one poll of a source."""
        self.polls.labels(source, outcome).inc()

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
