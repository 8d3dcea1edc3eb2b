"""Feed adapters: one parser module per format, each a pure function from bytes to normalized records.

``FORMATS`` is the registry the scheduler, push ingestion and ``travel feeds parse`` share; a
parser module is imported the first time its format is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from feeds.base import FeedError, ParseContext, Parsed


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One format: its name, the function that parses it, and a line for people."""

    name: str
    target: str
    description: str

    @property
    def parse(self) -> Callable[[bytes, ParseContext], Parsed]:
        """The parser (``module:function``), imported on first use."""
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function or "parse")


FORMATS: dict[str, FeedFormat] = {
    f.name: f
    for f in (
        FeedFormat("cap", "feeds.cap", "CAP 1.1/1.2 alerts (one <alert>, or an Atom/RSS feed embedding them)"),
        FeedFormat("datex2", "feeds.datex2", "DATEX II v2/v3 situation publications (XML)"),
        FeedFormat("open511", "feeds.open511", "Open511 events (JSON or XML)"),
        FeedFormat("wzdx", "feeds.wzdx", "WZDx v4 work-zone feed (GeoJSON)"),
        FeedFormat("geojson", "feeds.geojson", "GeoJSON FeatureCollection of events or POIs"),
        FeedFormat("toll_stations", "feeds.tabular:parse_toll_stations", "CSV: toll stations"),
        FeedFormat("sa_status", "feeds.tabular:parse_service_area_status", "CSV: service-area open status"),
        FeedFormat("gauge_readings", "feeds.tabular:parse_gauge_readings", "CSV: gauge water-level readings"),
        FeedFormat("toll_rates", "feeds.tabular:parse_toll_rates", "CSV: toll rates per section and class"),
    )
}


def parse(format_name: str, data: bytes, ctx: ParseContext) -> Parsed:
    """Parse one document of a registered format; FeedError when the format is unknown."""
    fmt = FORMATS.get(format_name)
    if fmt is None:
        raise FeedError(f"unknown format {format_name!r}; known: {', '.join(FORMATS)}")
    return fmt.parse(data, ctx)
