"""Typed application keys: every shared resource of the app, no globals."""

from __future__ import annotations

from aiohttp import web

from api.geojson import Features
from api.metrics import Metrics
from travel.core.settings import Settings
from travel.ingest.runtime import Feeds
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.network_holder import NetworkHolder
from travel.routing.planner import Planner
from travel.store.base import Store
from travel.store.bus import ChangeBus
from travel.tolls.book import TollBooks

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", ChangeBus)
READ_MODEL = web.AppKey("read_model", ReadModel)
METRICS = web.AppKey("metrics", Metrics)
FEEDS = web.AppKey("feeds", Feeds)
PLACES = web.AppKey("places", PlaceResolver)
TOLL_BOOKS = web.AppKey("toll_books", TollBooks)
ROAD_NETWORK = web.AppKey("road_network", NetworkHolder)
PLANNER = web.AppKey("planner", Planner)
FEATURES = web.AppKey("features", Features)
