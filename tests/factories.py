"""Small builders of valid records for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from travel.core.geometry import Geometry
from travel.core.records import Poi, RoadEvent, RoadSection

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def event(source_id: str = "1", *, version: int = 1, source: str = "gsj", lon: float = 113.8,
          lat: float = 34.2, **kw: Any) -> RoadEvent:
    """A road event on G4 near 许昌 unless told otherwise."""
    data: dict[str, Any] = {
        "id": f"{source}:{source_id}", "source": source, "source_id": source_id, "version": version,
        "updated_at": T0 + timedelta(minutes=version), "type": "construction",
        "severity": "moderate", "road": "G4", "road_name": "京港澳高速", "direction": "increasing",
        "start_stake_m": 650200.0, "description": "京港澳高速K650+200处施工，占用应急车道",
        "geometry": Geometry.point(lon, lat),
    }
    data.update(kw)
    return RoadEvent(**data)


def poi(source_id: str, lon: float, lat: float, *, kind: str = "service_area", name: str = "许昌服务区",
        version: int = 1, **kw: Any) -> Poi:
    """A POI at (lon, lat)."""
    data: dict[str, Any] = {
        "id": f"geodata:{source_id}", "source": "geodata", "source_id": source_id, "version": version,
        "updated_at": T0, "poi_kind": kind, "name": name, "road": "G4",
        "geometry": Geometry.point(lon, lat),
    }
    data.update(kw)
    return Poi(**data)


def section(source_id: str, coords: list[tuple[float, float]], *, road: str = "G4", version: int = 1,
            **kw: Any) -> RoadSection:
    """A road section along ``coords``."""
    data: dict[str, Any] = {
        "id": f"geodata:{source_id}", "source": "geodata", "source_id": source_id, "version": version,
        "updated_at": T0, "road": road, "road_name": "京港澳高速", "road_class": "expressway",
        "from_node": f"{source_id}-a", "to_node": f"{source_id}-b", "start_stake_m": 0.0,
        "end_stake_m": 1000.0, "speed_kmh": 120.0,
        "geometry": Geometry(type="LineString", coordinates=[list(c) for c in coords]),
    }
    data.update(kw)
    return RoadSection(**data)
