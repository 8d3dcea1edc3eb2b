"""Linking feed records to the road network: road + stake → geometry, geometry → road + stake.

Agencies describe a place either way ("G4 K650+200–K652+000" or coordinates); the service needs
both, so the travel pages can draw it and the hotline can read it out. Linking fills in only what a
record lacks and never overrides what the source said; a record that cannot be linked (unknown road,
stake in a chain break, far from every road) is kept as it came, since that is still true data.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from travel.core.errors import InvalidParameter
from travel.core.linref import LinearReferencer, Located
from travel.core.records import Alert, Direction, Kind, Poi, Record, RoadEvent, RoadSection
from travel.read.readmodel import ReadModel

log = logging.getLogger(__name__)

SNAP_TOLERANCE_M = 300.0
"""A record farther than this from every road is not said to be on one."""
SAMPLE_STEP_M = 200.0
MAX_SAMPLES = 500


class Linker:
    """Links records against the read model's current road network (rebuilt when it changes)."""

    def __init__(self, model: ReadModel) -> None:
        self._model = model
        self._generation = -1
        self._referencer: LinearReferencer | None = None
        self._building = asyncio.Lock()

    async def referencer(self) -> LinearReferencer | None:
        """The linear referencer of the current network; None while there is no network.

        A changed network is calibrated in a worker thread (a provincial network takes seconds), so
        the API keeps answering meanwhile; documents linked in that time wait for it.
        """
        async with self._building:
            view = self._model.view(Kind.ROAD_SECTION)
            generation = view.generation
            if generation != self._generation:
                sections = [r for r in view.records.values() if isinstance(r, RoadSection)]
                self._referencer = await asyncio.to_thread(LinearReferencer.from_sections, sections) \
                    if sections else None
                self._generation = generation
            return self._referencer

    async def link(self, records: Iterable[Record]) -> list[Record]:
        """Each record with what the network adds to it."""
        ref = await self.referencer()
        if ref is None:
            return list(records)
        out = []
        for record in records:
            if isinstance(record, RoadEvent | Poi):
                record = self._link_located(ref, record)
            elif isinstance(record, Alert):
                record = self._link_alert(record)
            out.append(record)
        return out

    def _link_located(self, ref: LinearReferencer, record: RoadEvent | Poi) -> Record:
        update: dict[str, Any] = {}
        try:
            if record.geometry is None and record.road:
                update = _geometry_from_stakes(ref, record)
            elif record.geometry is not None:
                update = _stakes_from_geometry(ref, record)
        except InvalidParameter as err:
            log.info("record not linked to the network", extra={"id": record.id, "reason": err.detail})
            return record
        if isinstance(record, RoadEvent) and record.road and not record.road_name and "road" not in update:
            update.setdefault("road_name", ref.line(record.road).road_name)
        return revised(record, update) if update else record

    def _link_alert(self, alert: Alert) -> Alert:
        """The alert's footprint (its areas; admin areas stand in for codes given alone) and the roads in it."""
        shapes = [a.geometry.shape for a in alert.areas if a.geometry is not None]
        codes = {c for a in alert.areas if a.geometry is None for c in a.admin_codes}
        if codes:
            admin = self._model.view(Kind.ADMIN_AREA).records.values()
            shapes.extend(r.geometry.shape for r in admin if getattr(r, "code", None) in codes and r.geometry)
        if not shapes:
            return alert
        footprint = shapely.union_all(shapes)
        update: dict[str, Any] = {}
        if alert.geometry is None and not footprint.is_empty:
            update["geometry"] = mapping(footprint)
        if not alert.roads:
            roads = self._roads_in(footprint)
            if roads:
                update["roads"] = roads
        return revised(alert, update) if update else alert

    def _roads_in(self, area: BaseGeometry) -> list[str]:
        sections = self._model.view(Kind.ROAD_SECTION)
        roads: set[str] = set()
        candidates = sections.index.in_bbox(*area.bounds)
        for section_id in candidates:
            section = sections.records[section_id]
            if isinstance(section, RoadSection) and section.road not in roads and area.intersects(
                section.geometry.shape
            ):
                roads.add(section.road)
        return sorted(roads)


def revised(record: Record, update: dict[str, Any]) -> Record:
    """``record`` with fields replaced, validated again (``model_copy`` would not check them)."""
    return type(record).model_validate({**record.model_dump(), **update})


def _geometry_from_stakes(ref: LinearReferencer, record: RoadEvent | Poi) -> dict[str, Any]:
    start = record.start_stake_m if isinstance(record, RoadEvent) else record.stake_m
    if start is None:
        return {}
    end = record.end_stake_m if isinstance(record, RoadEvent) else None
    direction = record.direction if record.direction in (Direction.INCREASING, Direction.DECREASING) else (
        Direction.BOTH)
    line = ref.line(record.road, direction)
    named = not isinstance(record, RoadEvent) or record.road_name
    update: dict[str, Any] = {} if named else {"road_name": line.road_name}
    if end is None or abs(end - start) < 1:
        lon, lat = line.point_at(start)
        return {**update, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    n = min(MAX_SAMPLES, max(2, math.ceil(abs(end - start) / SAMPLE_STEP_M) + 1))
    points = [line.point_at(start + (end - start) * i / (n - 1)) for i in range(n)]
    return {**update, "geometry": {"type": "LineString", "coordinates": [list(p) for p in points]}}


def _stakes_from_geometry(ref: LinearReferencer, record: RoadEvent | Poi) -> dict[str, Any]:
    """Road, name and stakes of a record the source gave coordinates for."""
    has_stake = (record.start_stake_m if isinstance(record, RoadEvent) else record.stake_m) is not None
    if record.road and has_stake:
        return {}
    geom = record.geometry.shape
    ends = [geom.coords[0], geom.coords[-1]] if geom.geom_type == "LineString" else [
        geom.representative_point().coords[0]]
    first = ref.locate(*ends[0], road=record.road, tolerance_m=SNAP_TOLERANCE_M)
    if isinstance(record, Poi):
        return {"road": first.road, "stake_m": round(first.stake_m, 1)}
    update: dict[str, Any] = {"road": first.road, "road_name": record.road_name or first.road_name}
    last: Located = ref.locate(*ends[-1], road=first.road, tolerance_m=SNAP_TOLERANCE_M) if len(ends) > 1 else first
    low, high = sorted((first.stake_m, last.stake_m))
    update["start_stake_m"] = round(low, 1)
    if high - low >= 1:
        update["end_stake_m"] = round(high, 1)
    if record.direction is Direction.UNKNOWN and len(ends) > 1 and high - low >= 1:
        update["direction"] = Direction.INCREASING if last.stake_m > first.stake_m else Direction.DECREASING
    return update
