"""Linear referencing: a lon/lat point ↔ (road, direction, stake 桩号).

Measures are taken in a Transverse Mercator projection on the GRS80 ellipsoid (CGCS2000's, which
differs from WGS84 by millimetres) centred on the mean longitude of the roads referenced, i.e. the
kind of zone EPSG:4547 (CGCS2000 3° zone, 114°E) uses for Henan. Henan spans about 110.3–116.7°E, so
no point is more than ~3.3° from the central meridian and the scale error stays below 0.12 %; since
stakes are interpolated between calibration points at every section's two ends, that error only
shifts positions inside a section by a fraction of it, never accumulates along a road. One common
projection (rather than one per road) lets a single STRtree compare distances to all roads. Offsets
from the road are then measured on the ellipsoid (geodesic), not in the projection.

Stakes are not geometric length: a road's stakes may jump (断链 chain breaks) — forward at a 短链
(stakes skipped: such stakes do not exist and are refused) or backward at a 长链 (stakes repeated:
``point_at`` returns the first occurrence along the road, ``locate`` the stake at the point). Each
section's start/end stakes are calibration points; between two of them, stake and measure are
linearly related.

A road whose sections are all two-way has one centreline (direction ``both``). A road with one-way
sections (divided carriageways) gets one line per direction: the increasing (上行) carriageway from the
two-way sections plus the one-way sections whose stakes increase from ``from_node`` to ``to_node``,
the decreasing (下行) one likewise.
"""

from __future__ import annotations

import difflib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, Point

from travel.core.errors import InvalidParameter
from travel.core.geometry import check_lon_lat
from travel.core.records import Direction, RoadClass, RoadSection
from travel.core.stakes import format_stake, format_stake_range, parse_stake

JOIN_TOLERANCE_M = 1.0
"""Consecutive sections whose ends are closer than this belong to one continuous part."""
TIE_M = 0.1
"""Roads within this distance of the nearest one are tied (coordinates have 6 decimals, ~0.1 m); the
higher road class wins, as a toll station is drawn on both its expressway and the national road
passing through it."""
DEFAULT_TOLERANCE_M = 500.0

_GEOD = Geod(ellps="WGS84")
_CLASS_RANK = {c: i for i, c in enumerate(RoadClass)}
_DIRECTION_TEXT = {Direction.INCREASING: "上行", Direction.DECREASING: "下行"}


class Side(StrEnum):
    """Side of the line a point lies on, looking towards increasing stakes."""

    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True, kw_only=True)
class Located:
    """Where a point lies on a road: its stake, and how far from the line it is."""

    road: str
    road_name: str
    stake_m: float
    offset_m: float
    side: Side | None
    direction: Direction
    lon: float
    lat: float

    @property
    def stake(self) -> str:
        """The stake as written on road signs, e.g. ``K650+200``."""
        return format_stake(self.stake_m)


def metric_crs(lons: Iterable[float]) -> CRS:
    """A Transverse Mercator CRS (GRS80, metres) centred on the mean of ``lons``."""
    lon_0 = float(np.mean(np.fromiter(lons, dtype=float)))
    return CRS.from_proj4(f"+proj=tmerc +lat_0=0 +lon_0={lon_0:.6f} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m")


@dataclass(frozen=True, kw_only=True)
class _Calibration:
    """One section's two calibration points: stakes s0→s1 at measures m0→m1 along part ``part``."""

    part: int
    m0: float
    m1: float
    s0: float
    s1: float
    direction: Direction

    def measure(self, stake_m: float) -> float:
        """The measure of a stake inside this section (linear between the calibration points)."""
        if self.s1 == self.s0:
            return self.m0
        return self.m0 + (stake_m - self.s0) / (self.s1 - self.s0) * (self.m1 - self.m0)

    def stake(self, measure: float) -> float:
        """The stake at a measure inside this section."""
        if self.m1 == self.m0:
            return self.s0
        return self.s0 + (measure - self.m0) / (self.m1 - self.m0) * (self.s1 - self.s0)


class RoadLine:
    """One road's (or carriageway's) centreline in metres, calibrated to its stakes."""

    def __init__(self, sections: Sequence[RoadSection], crs: CRS | None = None,
                 direction: Direction = Direction.BOTH) -> None:
        if not sections:
            raise ValueError("a RoadLine needs at least one section")
        roads = {s.road for s in sections}
        if len(roads) != 1:
            raise ValueError(f"sections of several roads given: {', '.join(sorted(roads))}")
        self.road = sections[0].road
        self.road_name = sections[0].road_name
        self.road_class = sections[0].road_class
        self.direction = direction
        if crs is None:
            crs = metric_crs(c[0] for s in sections for c in s.geometry.coordinates)
        self.crs = crs
        self._to_metric = Transformer.from_crs(4326, crs, always_xy=True)
        self._to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
        self.parts: list[LineString] = []
        self._calibration: list[_Calibration] = []
        self._build(sections)
        self.length_m = float(sum(p.length for p in self.parts))

    def _build(self, sections: Sequence[RoadSection]) -> None:
        """Orient every section towards increasing stakes, sort by stake and chain touching ones."""
        oriented = []
        for s in sections:
            xs, ys = self._to_metric.transform(*zip(*((c[0], c[1]) for c in s.geometry.coordinates), strict=True))
            xy = np.column_stack((xs, ys))
            s0, s1 = s.start_stake_m, s.end_stake_m
            one_way = (Direction.INCREASING if s1 >= s0 else Direction.DECREASING) if s.oneway else Direction.BOTH
            if s1 < s0:
                xy, s0, s1 = xy[::-1], s1, s0
            oriented.append((s0, s1, xy, one_way))
        oriented.sort(key=lambda o: (o[0], o[1]))
        chains: list[list[np.ndarray]] = []
        measure = 0.0
        for s0, s1, xy, one_way in oriented:
            if chains and float(np.hypot(*(chains[-1][-1][-1] - xy[0]))) <= JOIN_TOLERANCE_M:
                chains[-1].append(xy[1:])
            else:
                chains.append([xy])
                measure = 0.0
            length = float(LineString(xy).length)
            self._calibration.append(_Calibration(part=len(chains) - 1, m0=measure, m1=measure + length,
                                                  s0=s0, s1=s1, direction=one_way))
            measure += length
        self.parts = [LineString(np.concatenate(chain)) for chain in chains]

    @property
    def stake_range(self) -> tuple[float, float]:
        """Lowest and highest stake of the road."""
        return min(c.s0 for c in self._calibration), max(c.s1 for c in self._calibration)

    def point_at(self, stake_m: float) -> tuple[float, float]:
        """(lon, lat) of a stake; InvalidParameter outside the range or in a chain break or gap."""
        lo, hi = self.stake_range
        if not lo <= stake_m <= hi:
            text = format_stake(stake_m) if math.isfinite(stake_m) and stake_m >= 0 else f"{stake_m} m"
            raise InvalidParameter(
                f"stake {text} is outside {self.road} {self.road_name}, which runs "
                f"{format_stake_range(lo, hi)}",
                param="stake",
            )
        for cal in self._calibration:
            if cal.s0 <= stake_m <= cal.s1:
                point = self.parts[cal.part].interpolate(cal.measure(stake_m))
                lon, lat = self._to_lonlat.transform(point.x, point.y)
                return float(lon), float(lat)
        below = max(c.s1 for c in self._calibration if c.s1 < stake_m)
        above = min(c.s0 for c in self._calibration if c.s0 > stake_m)
        raise InvalidParameter(
            f"stake {format_stake(stake_m)} does not exist on {self.road}: stakes "
            f"{format_stake_range(below, above)} are skipped (chain break 断链 or gap in the network)",
            param="stake",
        )

    def project(self, lon: float, lat: float) -> Point:
        """The point in this line's metric CRS; InvalidParameter for a position that is not lon/lat."""
        try:
            check_lon_lat(lon, lat)
        except ValueError as err:
            raise InvalidParameter(str(err), param="lon,lat") from err
        x, y = self._to_metric.transform(lon, lat)
        return Point(x, y)

    def locate(self, lon: float, lat: float) -> Located:
        """The nearest point of the line to (lon, lat), as stake, geodesic offset and side."""
        point = self.project(lon, lat)
        part = min(range(len(self.parts)), key=lambda i: self.parts[i].distance(point))
        line = self.parts[part]
        measure = float(line.project(point))
        in_part = [c for c in self._calibration if c.part == part]
        # The last section also takes measures a rounding error beyond its end.
        cal = next((c for c in in_part if measure <= c.m1), in_part[-1])
        nearest = line.interpolate(measure)
        nlon, nlat = self._to_lonlat.transform(nearest.x, nearest.y)
        offset = float(_GEOD.inv(lon, lat, nlon, nlat)[2])
        return Located(road=self.road, road_name=self.road_name, stake_m=cal.stake(measure), offset_m=offset,
                       side=self._side(line, measure, point), direction=cal.direction, lon=float(nlon), lat=float(nlat))

    @staticmethod
    def _side(line: LineString, measure: float, point: Point) -> Side | None:
        """Left or right of the local segment direction; None on the line itself."""
        a = line.interpolate(max(0.0, measure - 0.5))
        b = line.interpolate(min(line.length, measure + 0.5))
        cross = (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x)
        if abs(cross) < 1e-3:
            return None
        return Side.LEFT if cross > 0 else Side.RIGHT


class LinearReferencer:
    """All roads of a network: stakes to positions and positions to the nearest road's stake."""

    def __init__(self, lines: Iterable[RoadLine]) -> None:
        self._lines: dict[str, dict[Direction, RoadLine]] = defaultdict(dict)
        geoms: list[LineString] = []
        self._owners: list[RoadLine] = []
        for line in lines:
            self._lines[line.road][line.direction] = line
            geoms.extend(line.parts)
            self._owners.extend(line for _ in line.parts)
        if not self._owners:
            raise ValueError("no road lines given")
        if any(line.crs != self._owners[0].crs for line in self._owners):
            raise ValueError("all road lines must share one CRS, so that one STRtree can compare their distances")
        self._tree = shapely.STRtree(geoms)

    @classmethod
    def from_sections(cls, sections: Iterable[RoadSection]) -> LinearReferencer:
        """Group sections by road (and carriageway) and project them all into one metric CRS."""
        by_road: dict[str, list[RoadSection]] = defaultdict(list)
        for s in sections:
            by_road[s.road].append(s)
        if not by_road:
            raise ValueError("no road sections given")
        crs = metric_crs(c[0] for ss in by_road.values() for s in ss for c in s.geometry.coordinates)
        lines = []
        for road_sections in by_road.values():
            if not any(s.oneway for s in road_sections):
                lines.append(RoadLine(road_sections, crs))
                continue
            for direction in (Direction.INCREASING, Direction.DECREASING):
                carriageway = [s for s in road_sections if not s.oneway or _one_way_direction(s) is direction]
                lines.append(RoadLine(carriageway, crs, direction))
        return cls(lines)

    @property
    def roads(self) -> list[str]:
        """The road codes known, sorted."""
        return sorted(self._lines)

    def line(self, road: str, direction: Direction = Direction.BOTH) -> RoadLine:
        """The line of a road (its increasing carriageway unless ``direction`` picks one)."""
        lines = self._lines.get(road.strip().upper())
        if lines is None:
            close = difflib.get_close_matches(road.strip().upper(), self._lines, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"known roads: {', '.join(self.roads)}"
            raise InvalidParameter(f"unknown road {road!r}; {hint}", param="road")
        return lines.get(direction) or lines.get(Direction.BOTH) or lines[Direction.INCREASING]

    def point_at(self, road: str, stake: float | str,
                 direction: Direction = Direction.BOTH) -> tuple[float, float]:
        """(lon, lat) of a stake (metres or ``K650+200``) on a road, on the given carriageway."""
        if isinstance(stake, str):
            try:
                stake = parse_stake(stake)
            except ValueError as err:
                raise InvalidParameter(str(err), param="stake") from err
        return self.line(road, direction).point_at(stake)

    def locate(self, lon: float, lat: float, *, road: str | None = None,
               tolerance_m: float = DEFAULT_TOLERANCE_M) -> Located:
        """Snap (lon, lat) to the nearest road (or to ``road``) within ``tolerance_m`` metres."""
        if road is not None:
            candidates = list(self._lines_of(road))
        else:
            point = self._owners[0].project(lon, lat)
            # The projection's scale error is < 0.2 %, so this margin finds every road within tolerance.
            hits = self._tree.query(point, predicate="dwithin", distance=tolerance_m * 1.002 + TIE_M)
            if not len(hits):
                hits = self._tree.query_nearest(point)
            candidates = list(dict.fromkeys(self._owners[i] for i in hits))
        found = sorted((line.locate(lon, lat) for line in candidates), key=lambda loc: loc.offset_m)
        best = found[0]
        tied = [loc for loc in found if loc.offset_m <= best.offset_m + TIE_M]
        best = min(tied, key=lambda loc: (_CLASS_RANK[self.line(loc.road).road_class], loc.offset_m, loc.road))
        if best.offset_m > tolerance_m:
            raise InvalidParameter(
                f"({lon}, {lat}) is {best.offset_m:.0f} m from the nearest road, {best.road} {best.road_name} "
                f"at {best.stake}; the tolerance is {tolerance_m:.0f} m",
                param="tolerance_m",
            )
        return best

    def _lines_of(self, road: str) -> Iterable[RoadLine]:
        """Every line (carriageway) of one road; InvalidParameter for an unknown road."""
        return self._lines[self.line(road).road].values()

    def describe(self, lon: float, lat: float, *, tolerance_m: float = DEFAULT_TOLERANCE_M) -> str:
        """A zh label for a position, e.g. ``G4 京港澳高速 K650+200 上行``."""
        loc = self.locate(lon, lat, tolerance_m=tolerance_m)
        text = f"{loc.road} {loc.road_name} {loc.stake}"
        direction = _DIRECTION_TEXT.get(loc.direction)
        return f"{text} {direction}" if direction else text


def _one_way_direction(section: RoadSection) -> Direction:
    """The carriageway a one-way section belongs to: stakes rising or falling along its travel."""
    return Direction.INCREASING if section.end_stake_m >= section.start_stake_m else Direction.DECREASING
