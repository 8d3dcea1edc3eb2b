"""Typed application keys: every shared resource of the app, no globals."""

from __future__ import annotations

from aiohttp import web

from api.metrics import Metrics
from travel.bus import ChangeBus
from travel.readmodel import ReadModel
from travel.settings import Settings
from travel.store.base import Store
from travel.sync.runtime import Feeds

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", ChangeBus)
READ_MODEL = web.AppKey("read_model", ReadModel)
METRICS = web.AppKey("metrics", Metrics)
FEEDS = web.AppKey("feeds", Feeds)
