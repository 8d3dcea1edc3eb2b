"""Place resolution: GET /v1/places?q= turns a typed name, code or lon,lat into ranked candidates."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.keys import PLACES, READ_MODEL
from api.params import QueryModel, csv_of, parse_query
from api.views.lists import not_modified, not_modified_response, validators, views_etag
from travel.core.answers import EXACT
from travel.core.crs import Crs, from_wgs84
from travel.read.places import PLACE_KINDS, Candidate, PlaceKind

MAX_AGE_S = 60


class PlacesQuery(QueryModel):
    """Parameters of GET /v1/places."""

    model_config = ConfigDict(str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=50,
                   description="a name (郑州, 许昌东站, 长葛服务区, 京港澳高速), road code (G4), "
                               "6-digit admin code (410100) or lon,lat in `crs`")
    limit: int = Field(default=10, ge=1, le=50)
    kind: csv_of(PlaceKind) = Field(default_factory=list, description="comma-separated place kinds")
    crs: Crs = Field(default=Crs.WGS84, description="coordinate system of a lon,lat query and of results")


class PlaceOut(BaseModel):
    """One candidate as the API returns it, positioned in the requested crs."""

    model_config = EXACT

    kind: PlaceKind
    id: str = Field(description="record id, road code, admin code, or lon,lat in WGS84")
    name: str = Field(description="zh name")
    admin_code: str | None = Field(description="prefecture containing the place, when known")
    admin_name: str | None
    lon: float
    lat: float
    score: float = Field(description="1.0 exact name; lower for suffix-stripped, prefix and contains matches")


class PlacesResponse(BaseModel):
    """Body of GET /v1/places: ranked candidates, best first; several when the query is ambiguous."""

    model_config = EXACT

    query: str
    count: int
    candidates: list[PlaceOut]


def _out(candidate: Candidate, crs: Crs) -> PlaceOut:
    """A candidate with its position converted to ``crs``."""
    lon, lat = from_wgs84(candidate.lon, candidate.lat, crs)
    return PlaceOut(kind=candidate.kind, id=candidate.id, name=candidate.name, admin_code=candidate.admin_code,
                    admin_name=candidate.admin_name, lon=round(lon, 7), lat=round(lat, 7), score=candidate.score)


async def list_places(request: web.Request) -> web.Response:
    """GET /v1/places — resolve ``q`` against the read model's admin areas, roads and POIs.

    The answer is revalidated by an ETag of the views places are resolved from, as lists are.
    """
    q = parse_query(request, PlacesQuery)
    model = request.app[READ_MODEL]
    etag = views_etag([model.view(kind) for kind in PLACE_KINDS], request)
    if not_modified(request, etag):
        return not_modified_response(etag, MAX_AGE_S)
    found = request.app[PLACES].resolve(q.q, limit=q.limit, kinds=frozenset(q.kind), crs=q.crs)
    body = PlacesResponse(query=q.q, count=len(found), candidates=[_out(c, q.crs) for c in found])
    return web.Response(body=body.model_dump_json().encode(), content_type="application/json",
                        headers=validators(etag, MAX_AGE_S))
