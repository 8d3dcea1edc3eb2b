"""Why no route was found, and where the traveller can still get to.

"No route" alone leaves a traveller stuck. So a failed search is asked again with every closure
lifted: when a route appears, the closures on it are to blame and are named; otherwise the vehicle's
restrictions or the avoid options are, or no road joins the places at all. With the explanation
goes the nearest place to the destination that can still be reached (a toll station, service area
or bus station), when there is one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from travel.core.records import Kind, Poi, PoiKind
from travel.read.readmodel import ReadModel
from travel.routing.engine import Route, joined
from travel.routing.network import LiveState, RoadNetwork, Unroutable
from travel.routing.render import event_text
from travel.routing.search import DIRECT, SNAP_M, Journey, Legs, SeedWay, Waypoint, leg_routes, legs_seeds, seed_ways

FALLBACK_CANDIDATES = 6  # places near an unreachable destination tried as "nearest reachable"
FALLBACK_RADIUS_M = 200_000.0


def why_unroutable(model: ReadModel, live: LiveState, journey: Journey) -> Unroutable:
    """Explain a failed search: closures, restrictions or no road at all, with the nearest reachable place."""
    network, request, places, profile, options = (journey.network, journey.request, journey.places,
                                                  journey.profile, journey.options)
    engine = network.engine
    with _closures_lifted(network):
        lifted = legs_seeds(engine, places, request.optimize, profile, options.get("toll_cost"))
        legs = [leg_routes(engine, places[k].snapped, places[k + 1].snapped, ways, 1, request.optimize, profile,
                           options) for k, ways in enumerate(lifted)]
        open_route = joined([leg[0] for leg in legs]) if all(legs) else None
    names = " → ".join(w.place.name for w in places)
    if open_route is not None:
        driven = {*open_route.sections.tolist(), *_partly_driven(journey, lifted, [leg[0] for leg in legs])}
        closing = sorted({e for i in driven for e in live.closed_by.get(i, [])})
        texts = [event_text(model, e) for e in closing]
        detail = f"every route {names} is closed now: {'; '.join(texts)}"
    elif options.get("avoid_tolls") or options.get("avoid_expressways") or profile.height_m or profile.total_mass_t:
        detail = f"no route {names} for this vehicle with these avoid options (restrictions or avoided roads)"
    else:
        detail = f"no road connects {names}"
    start = journey.legs[0][0]
    nearest = _nearest_reachable(model, journey, start, places[-1]) if start else None
    return Unroutable(detail, param="to") if nearest is None else _with_nearest(detail, nearest)


def _partly_driven(journey: Journey, ways: Legs, legs: list[Route]) -> set[int]:
    """The waypoints' own sections that the legs drive some of (a point at a junction drives none of its)."""
    places = journey.places
    out = set()
    for k, leg in enumerate(legs):
        here, there = places[k].snapped, places[k + 1].snapped
        if leg.source == DIRECT:
            if here.fraction != there.fraction:
                out.add(here.section)
            continue
        if ways[k][0][leg.source].metres > 0:
            out.add(here.section)
        if ways[k][1][leg.target].metres > 0:
            out.add(there.section)
    return out


@contextmanager
def _closures_lifted(network: RoadNetwork) -> Iterator[None]:
    """Reopen every closed section for one synchronous query (nothing else runs meanwhile)."""
    closed = np.flatnonzero(network.engine.closed)
    bits = network.engine.closed[closed].tolist()
    network.engine.set_closures(closed.tolist(), [0] * len(bits))
    try:
        yield
    finally:
        network.engine.set_closures(closed.tolist(), bits)


def _nearest_reachable(model: ReadModel, journey: Journey, start: list[SeedWay],
                       goal: Waypoint) -> dict[str, Any] | None:
    """The toll station, service area or bus station nearest the goal that a route from ``start`` reaches."""
    network, request, profile = journey.network, journey.request, journey.profile
    pois = model.view(Kind.POI)
    for poi_id, distance in pois.index.nearest(goal.lon, goal.lat, FALLBACK_CANDIDATES * 4, FALLBACK_RADIUS_M):
        poi = pois.records[poi_id]
        if not isinstance(poi, Poi) or poi.poi_kind not in (PoiKind.TOLL_STATION, PoiKind.SERVICE_AREA,
                                                            PoiKind.BUS_STATION):
            continue
        x, y = poi.geometry.coordinates  # type: ignore[union-attr]
        try:
            snapped = network.snap(x, y, SNAP_M)
        except Unroutable:
            continue
        target = seed_ways(network.engine, snapped, request.optimize, profile, journey.options.get("toll_cost"),
                           leaving=False)
        found = target and network.engine.route([w.seed for w in start], [w.seed for w in target],
                                                request.optimize, profile, **journey.options)
        if found:
            return {"name": poi.name, "id": poi.id, "lon": x, "lat": y, "distance_km": round(distance / 1000, 1)}
    return None


def _with_nearest(detail: str, nearest: dict[str, Any]) -> Unroutable:
    return Unroutable(f"{detail}; the nearest reachable place is {nearest['name']}, "
                      f"{nearest['distance_km']} km from the destination", param="to",
                      extensions={"nearest_reachable": nearest})
