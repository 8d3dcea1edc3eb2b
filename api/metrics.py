"""Prometheus metrics, one registry per app so several apps (tests) never collide."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from itertools import accumulate

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


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


class _HttpRequests(Collector):
    """Request counts by (method, route, status) and latency histograms by route, in plain dicts.

    prometheus_client's ``Counter.inc`` and ``Histogram.observe`` take a lock each and walk the
    buckets in Python on every request. Requests are observed on the event loop's thread only, so
    plain integers do, and the families are built at scrape time instead.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}  # per route: observations per bucket, the last one +Inf
        self.sums: dict[str, float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        buckets = self.buckets.get(route)
        if buckets is None:
            buckets = self.buckets[route] = [0] * (len(LATENCY_BUCKETS) + 1)
            self.sums[route] = 0.0
        buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sums[route] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("travel_http_requests", "HTTP requests", labels=["method", "route", "status"])
        for (method, route, status), n in self.counts.items():
            requests.add_metric([method, route, str(status)], n)
        yield requests
        latency = HistogramMetricFamily("travel_http_request_duration_seconds", "HTTP request latency",
                                        labels=["route"])
        bounds = [*map(floatToGoString, LATENCY_BUCKETS), "+Inf"]
        for route, buckets in self.buckets.items():
            latency.add_metric([route], list(zip(bounds, accumulate(buckets), strict=True)), self.sums[route])
        yield latency


class Metrics:
    """The service's metrics and their registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._http = _HttpRequests()
        self.registry.register(self._http)
        self.polls = Counter("travel_source_polls", "Feed polls by outcome", ["source", "outcome"],
                             registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one request."""
        self._http.observe(method, route, status, seconds)

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
