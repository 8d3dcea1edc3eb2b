"""Helpers the Open511 and WZDx parsers share: JSON documents, loosely typed values, road words.

They read a JSON document and its values, and turn a source's road words into a road code, a name
and location text. Both formats are JSON documents written by many agencies, so every value is checked for its type
here (a wrong type is a ``ValueError`` naming the field, which rejects only the item it is in).
"""

from __future__ import annotations

import math
from typing import Any

from feeds.base import FeedError, ParseContext, load_json


# --------------------------------------------------------------------------- JSON documents
def load_json_object(data: bytes, ctx: ParseContext, what: str) -> dict[str, Any]:
    """The top-level object of a JSON document; FeedError (with line and column) when it is not one."""
    value = load_json(data, ctx)
    if not isinstance(value, dict):
        raise FeedError(f"not {what}: the document is a JSON {type(value).__name__}, not an object")
    return value


def lookup(table: dict[str, Any], key: str, value: str, field: str) -> Any:
    """``table[key]`` for a closed list of values; ValueError naming the value and the known ones."""
    try:
        return table[key]
    except KeyError:
        raise ValueError(f"unknown {field} {value!r} (known: {', '.join(table)})") from None


def too_deep(where: str) -> str:
    """The reason for an item nested beyond Python's recursion limit (a hostile or broken document)."""
    return f"{where} is nested too deeply to read"



def opt_str(obj: dict[str, Any], key: str) -> str | None:
    """A text field, stripped; None when absent, null or blank; ValueError when not text."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {type(value).__name__}")
    return value.strip() or None


def req_str(obj: dict[str, Any], key: str) -> str:
    """A text field that must be there."""
    value = opt_str(obj, key)
    if value is None:
        raise ValueError(f"{key} is missing")
    return value


def opt_number(obj: dict[str, Any], key: str) -> float | None:
    """A finite number field (numeric text accepted, as agencies write both); None when absent."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{key} {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{key} is not a finite number")
    return number


def opt_dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """An object field; {} when absent or null."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object, not {type(value).__name__}")
    return value


def opt_list(obj: dict[str, Any], key: str) -> list[Any]:
    """An array field; [] when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be an array, not {type(value).__name__}")
    return value


def dicts(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """An array of objects; ValueError naming the first item that is not one."""
    items = opt_list(obj, key)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{key}[{i}] must be an object, not {type(item).__name__}")
    return items


def geojson(value: Any, what: str) -> dict[str, Any]:
    """Only ``type`` and ``coordinates`` of a GeoJSON geometry (the model validates the rest)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a GeoJSON geometry object")
    return {"type": value.get("type"), "coordinates": value.get("coordinates")}


# --------------------------------------------------------------------------- roads and places
def from_to(start: str | None, end: str | None) -> str | None:
    """``从 A 到 B`` (or only the half that is known)."""
    parts = [f"从 {start}" if start else "", f"到 {end}" if end else ""]
    return " ".join(p for p in parts if p) or None


def join_text(*parts: str | None, sep: str = "，") -> str | None:
    """The given texts joined, blanks left out; None when none is left."""
    return sep.join(p for p in parts if p) or None
