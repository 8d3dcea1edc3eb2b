"""Route planning for the API: the parts that answer GET /v1/routes, composed.

A route request is answered in four steps, each a module of its own: the network to search
(``network_holder``: rebuilt off the loop when road sections change, live state synced with the
events), the search (``search``: places → waypoints → seeds → engine routes), the explanation when
nothing is routable (``unroutable``) and the answer people read (``render``). The app makes one
``Planner`` per read model and hands it the toll book and place resolver it shares with quotes.
"""

from __future__ import annotations

from travel.read.places import PlaceResolver
from travel.read.readmodel import ReadModel
from travel.routing.answer import RoutesOut
from travel.routing.network_holder import NetworkHolder
from travel.routing.render import Renderer
from travel.routing.search import RouteRequest, Search
from travel.routing.unroutable import why_unroutable
from travel.tolls.book import TollBooks


class Planner:
    """Answers route requests on the network ``network`` keeps current for ``model``."""

    def __init__(self, model: ReadModel, network: NetworkHolder, books: TollBooks, places: PlaceResolver) -> None:
        self.model, self.network, self.books = model, network, books
        self.search = Search(model, places, books)
        self.renderer = Renderer(model)

    async def plan(self, request: RouteRequest) -> RoutesOut:
        """Routes for ``request`` (the best first), as the API's JSON body."""
        journey = self.search.journey(await self.network.current(), request)
        found = self.search.routes(journey)
        live = self.network.live
        assert live is not None
        if not found:
            raise why_unroutable(self.model, live, journey)
        return self.renderer.answer(journey, found, live, self.books.current())
