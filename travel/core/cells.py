"""How a record is written in the department's files and feeds: GeoJSON properties and CSV cells.

Shared by the bundle and import readers (``geodata.loader``) and the feed parsers (``feeds/``), so both
read a cell, a WKT column or a reserved property name the same way.
"""

from __future__ import annotations

import json
from typing import Any

import shapely.errors
import shapely.wkt
from shapely.geometry import mapping

RESERVED = frozenset({"id", "source", "source_id", "kind", "geometry", "ingested_at"})


class CellError(ValueError):
    """One bad CSV cell (or GeoJSON property), named by its column: ``column: reason``."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column, self.reason = column, reason


def record_properties(properties: dict[str, Any], reserved: frozenset[str] = RESERVED) -> dict[str, Any]:
    """A feature's properties as record fields: ``x_`` annotations left out, reserved names refused."""
    data = {k: v for k, v in properties.items() if not k.startswith("x_")}
    refused = sorted(reserved & data.keys())
    if refused:
        raise CellError(refused[0], "is reserved and cannot be a property")
    return data


def csv_cells(row: dict[str | None, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The given cells of a CSV row: empty cells and ``x_`` columns left out, ``[``/``{`` cells read as JSON.

    Shared by the importer and the CSV feeds (``feeds.tabular``) so both read cells the same way.
    """
    if None in row:
        raise CellError("record", "more cells than header columns")
    return {k: _cell(k, v) for k, v in row.items()
            if k is not None and k not in skip and not k.startswith("x_") and v is not None and v.strip()}


def _cell(column: str, text: str) -> Any:
    """A CSV cell: JSON when it starts with [ or {, else the stripped text (pydantic coerces it)."""
    text = text.strip()
    if text[0] in "[{":
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise CellError(column, f"malformed JSON cell: {err}") from err
    return text


def csv_geometry(row: dict[str | None, Any]) -> dict[str, Any] | None:
    """Point from lon/lat, or any geometry from a WKT column; None when neither is given."""
    lon, lat, wkt = ((row.get(k) or "").strip() for k in ("lon", "lat", "wkt"))
    if wkt:
        try:
            return dict(mapping(shapely.wkt.loads(wkt)))
        except shapely.errors.ShapelyError as err:
            raise CellError("wkt", f"malformed WKT: {err}") from err
    if not lon and not lat:
        return None
    coords = []
    for name, text in (("lon", lon), ("lat", lat)):
        try:
            coords.append(float(text))
        except ValueError as err:
            raise CellError(name, f"{text!r} is not a number") from err
    return {"type": "Point", "coordinates": coords}
