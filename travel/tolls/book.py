"""The toll book: everything a quote needs, built from the read model and rebuilt only when it changes.

``TollBooks`` (one per read model, made by the app) hands out the current ``TollBook``. Each part
follows the generations of the views it is made from: the network (road sections, toll stations),
the tariff (toll sections, rates, rules) and the notices. Caches of priced paths and of whole quotes
live on the book, so a change of rates, notices or network drops exactly the answers it could alter,
on every process (each follows the same change bus).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from travel.core.records import Kind, Poi, PoiKind, RoadSection, TollNotice, TollRate, TollRules, TollSection
from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.tolls.network import ChargedNetwork
from travel.tolls.tariff import Tariff

K = TypeVar("K")
V = TypeVar("V")
PRICED_CACHE = 20_000
QUOTE_CACHE = 20_000


class Lru(Generic[K, V]):
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (marked as recently used), or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        """Remember ``value``; returns it."""
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class TollBook:
    """One consistent state of the network, stations, tariff and notices, with its caches.

    ``places`` resolves the names a quote is asked for; ``places_key`` is the generation of the POIs
    and admin areas they resolve against: resolved sides and quotes are only reused within one book,
    so they never outlive a change of names either.
    """

    model: ReadModel
    places: PlaceResolver
    network: ChargedNetwork
    tariff: Tariff
    notices: list[TollNotice]
    places_key: tuple[int, int] = (0, 0)
    priced: Lru[tuple, object] = field(default_factory=lambda: Lru(PRICED_CACHE))
    sides: Lru[tuple, object] = field(default_factory=lambda: Lru(QUOTE_CACHE))
    quotes: Lru[tuple, dict] = field(default_factory=lambda: Lru(QUOTE_CACHE))
    bodies: Lru[tuple, bytes] = field(default_factory=lambda: Lru(QUOTE_CACHE))
    by_query: Lru[tuple, bytes] = field(default_factory=lambda: Lru(QUOTE_CACHE))  # API answers by query string
    _notice_changes: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._notice_changes = sorted({n.starts_at for n in self.notices}
                                      | {n.ends_at for n in self.notices if n.ends_at is not None})

    def notices_period(self, at: datetime) -> int:
        """The span between notice starts and ends that ``at`` is in: the same span, the same notices in force."""
        return bisect_right(self._notice_changes, at)


def _station_signature(model: ReadModel) -> tuple:
    """What of the POIs matters to the network: toll stations, where they are and whether they are closed."""
    return tuple(sorted(
        (p.id, p.name, tuple(p.geometry.coordinates) if p.geometry else (), p.open_status, p.admin_code)
        for p in _stations(model)
    ))


def _stations(model: ReadModel) -> list[Poi]:
    return [p for p in model.view(Kind.POI).records.values()
            if isinstance(p, Poi) and p.poi_kind is PoiKind.TOLL_STATION]


class TollBooks:
    """The current toll book of one read model, each part rebuilt only when the records it is made from change."""

    def __init__(self, model: ReadModel, places: PlaceResolver) -> None:
        self.model, self.places = model, places
        self._book: TollBook | None = None
        self._network_key: tuple[int, tuple] = (-1, ())
        self._tariff_key: tuple[int, int, int] = (-1, -1, -1)
        self._notices_key = -1

    def current(self) -> TollBook:
        """The book for the model as it is now (the same object while nothing it is built from changed)."""
        views, built = self.model.views, self._book
        road_gen = views[Kind.ROAD_SECTION].generation
        tariff_key = (views[Kind.TOLL_SECTION].generation, views[Kind.TOLL_RATE].generation,
                      views[Kind.TOLL_RULES].generation)
        notices_key = views[Kind.TOLL_NOTICE].generation
        places_key = (views[Kind.POI].generation, views[Kind.ADMIN_AREA].generation)
        if built is not None and self._network_key[0] == road_gen and self._tariff_key == tariff_key \
                and self._notices_key == notices_key and built.places_key == places_key:
            return built
        network_key = (road_gen, _station_signature(self.model))
        if built is not None and self._network_key == network_key:
            network = built.network
        else:
            sections = [r for r in views[Kind.ROAD_SECTION].records.values() if isinstance(r, RoadSection)]
            network = ChargedNetwork(sections, _stations(self.model))
        if built is not None and self._tariff_key == tariff_key:
            tariff = built.tariff
        else:
            tariff = Tariff(
                (r for r in views[Kind.TOLL_SECTION].records.values() if isinstance(r, TollSection)),
                (r for r in views[Kind.TOLL_RATE].records.values() if isinstance(r, TollRate)),
                (r for r in views[Kind.TOLL_RULES].records.values() if isinstance(r, TollRules)),
            )
        notices = sorted((r for r in views[Kind.TOLL_NOTICE].records.values() if isinstance(r, TollNotice)),
                         key=lambda n: (n.starts_at, n.id))
        book = TollBook(model=self.model, places=self.places, network=network, tariff=tariff, notices=notices,
                        places_key=places_key)
        if built is not None and built.network is network and built.tariff is tariff:
            book.priced = built.priced  # priced paths depend on nothing else
        self._book, self._network_key, self._tariff_key, self._notices_key = book, network_key, tariff_key, notices_key
        return book
