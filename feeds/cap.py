"""CAP (OASIS Common Alerting Protocol) 1.2 and 1.1 weather warnings → :class:`travel.core.records.Alert`.

Input is one ``<alert>`` (namespace ``urn:oasis:names:tc:emergency:cap:1.2`` or ``…:cap:1.1``), or
an Atom ``<feed>`` / RSS ``<rss>`` whose entries/items embed ``<alert>`` elements, directly or
inside ``<content>``; each embedded alert is one record. Any other root element, or an ``<alert>``
root in another namespace, refuses the document. An entry without an embedded alert (a feed that
only links to its alerts), or an embedded alert in a foreign namespace, is a rejected item: linked
alerts are not fetched and alerts escaped as text inside ``<content>`` are not re-parsed.

Message → Alert:

- ``identifier`` → ``source_id`` and ``identifier``; ``sender``, ``sent`` (UTC; ``version`` is
  ``version_of(sent)`` and ``updated_at`` is ``sent``); a repeated identifier in one document keeps
  the first and rejects the rest.
- ``status``: only ``Actual`` is published; Exercise/System/Test/Draft are rejected items.
  ``scope``: Public (or absent) only; Restricted and Private messages are rejected, never published.
- ``msgType``: Alert/Update/Cancel as they are; Ack and Error are rejected items. A Cancel makes
  the record inactive; ``cancelled`` stays False here (the ingest step sets it on the alerts the
  Cancel references). A Cancel without ``<info>`` gets ``event`` = 解除; any other message without
  ``<info>`` is rejected.
- ``references``: the whitespace-separated ``sender,identifier,sent`` triples, kept raw; an entry
  that is not such a triple rejects the message.

Infos: the primary ``<info>`` is the first whose ``language`` starts with ``zh`` (an absent
language is en-US, as CAP says), else the first. Its event, headline, description, instruction,
severity, urgency, certainty (absent → Unknown; an unknown value rejects the message), effective,
onset (``effective`` when there is no onset, as CAP reads it), expires and areas go on the
Alert, ``language`` = its language. Every other info contributes only its texts, as an
``AlertText`` in ``translations`` (its codes, times and areas are taken to repeat the primary's).

Chinese warning signals (气象灾害预警信号), read from the primary info:

- event: an ``eventCode`` named CN-WARNING-TYPE (also ``warning_type`` / 预警类型) whose value is
  one of ``EVENT_CODES`` (national event-classification weather codes, e.g. 11B17 大雾),
  optionally followed by a level digit 1–4 (``11B17`` / ``11B173`` / ``11B17-3``; 1 red … 4 blue,
  as 预警级别 I–IV); else the first of ``EVENTS`` named in the ``<event>`` text, then in the headline (the longest name
  wins where they overlap: 雷雨大风 before 大风); a few English event names (``ENGLISH_EVENTS``)
  are understood too. A recognised event sets ``event`` to the bare zh name (大雾); otherwise
  ``event`` is the ``<event>`` text as given.
- colour, first found of: a ``<parameter>`` named alert_color/alert_colour/color/colour/
  warning_color/signal_color/预警颜色/颜色 with value 红色/橙色/黄色/蓝色, 红/橙/黄/蓝 or
  Red/Orange/Yellow/Blue (any other value rejects the message); the eventCode level digit; the
  last colour word (红色…, or red/orange/yellow/blue) in the event text, then in the headline — the
  last, because an upgrade reads 由黄色升级为橙色.
- severity: when the info's severity is Unknown or absent it comes from the colour (红 Extreme,
  橙 Severe, 黄 Moderate, 蓝 Minor). When both are given and disagree, the given severity is kept:
  it is what the issuer published, and the colour is kept alongside it.

Areas (primary info only) → ``AlertArea``:

- ``areaDesc`` is required. ``<polygon>`` is "lat,lon lat,lon …" (latitude first; commas and
  whitespace both separate values, so an odd count of values is refused) → GeoJSON lon/lat; an
  unclosed ring is closed; a ring of fewer than 4 positions (after closing), an out-of-range or
  non-finite coordinate, or an invalid (self-intersecting, zero-area) ring rejects the message,
  naming the area.
- ``<circle>`` "lat,lon radius_km" → a 64-vertex geodesic polygon (WGS84, ``pyproj.Geod``),
  vertices rounded to 1e-7°; a circle crossing the antimeridian or a pole is refused.
- Several shapes in one area → a MultiPolygon, or their union when they overlap or touch
  (``unary_union``: a Polygon when they merge into one).
- ``<geocode>`` under a valueName like GB/T2260, ADCODE, admin_code, 行政区划代码 → ``admin_codes``
  (a value that is not 6 digits rejects the message); every other geocode (SAME, FIPS, EMMA_ID, …)
  is ignored. altitude and ceiling are ignored.

Coordinates are range-checked here (to name latitude/longitude mix-ups); a single shape's validity
is checked once, by ``Geometry`` when the Alert is validated (one ``model_validate`` of plain dicts:
the alert, its areas and their geometry; a model error about an area still names the area).
Several shapes are checked here (each ring, then the MultiPolygon) before the model checks the
result again.

Not used: ``source``, ``restriction``, ``addresses``, ``code``, ``note``, ``incidents``, and per
info ``category``, ``responseType``, ``audience``, ``senderName``, ``web``, ``contact``,
``resource``; ``Alert.roads`` and ``Alert.geometry`` are left to the linking step. ``snapshot`` is
False: a CAP document says nothing about alerts it does not carry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache, partial
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
import shapely
from pydantic import ValidationError
from pyproj import Geod

from feeds.base import (
    LOCAL_NAMES,
    FeedError,
    ParseContext,
    Parsed,
    children,
    gc_paused,
    local,
    namespace,
    parse_time,
    parse_xml,
    validation_reason,
    version_of,
)
from travel.core.geometry import Geometry
from travel.core.records import (
    Alert,
    AlertCertainty,
    AlertMsgType,
    AlertSeverity,
    AlertUrgency,
    WarningColour,
)

CAP_NAMESPACES = frozenset({"urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1"})
ALERT_TAGS = frozenset(f"{{{ns}}}alert" for ns in CAP_NAMESPACES)
DEFAULT_LANGUAGE = "en-US"
CANCEL_EVENT = "解除"

MSG_TYPES = {"Alert": AlertMsgType.ALERT, "Update": AlertMsgType.UPDATE, "Cancel": AlertMsgType.CANCEL}
UNPUBLISHED_MSG_TYPES = frozenset({"Ack", "Error"})
PUBLIC_SCOPES = frozenset({"Public"})

EVENTS = (
    "大雾",
    "道路结冰",
    "暴雪",
    "暴雨",
    "雷雨大风",
    "大风",
    "高温",
    "寒潮",
    "霾",
    "雷电",
    "冰雹",
    "霜冻",
    "干旱",
    "台风",
    "沙尘暴",
)
"""The warning signals (气象灾害预警信号) recognised by name."""

ENGLISH_EVENTS = {
    "heavy fog": "大雾",
    "fog": "大雾",
    "road icing": "道路结冰",
    "blizzard": "暴雪",
    "snowstorm": "暴雪",
    "rainstorm": "暴雨",
    "thunderstorm and gale": "雷雨大风",
    "gale": "大风",
    "high temperature": "高温",
    "heat wave": "高温",
    "cold wave": "寒潮",
    "haze": "霾",
    "lightning": "雷电",
    "hail": "冰雹",
    "frost": "霜冻",
    "drought": "干旱",
    "typhoon": "台风",
    "sandstorm": "沙尘暴",
    "sand storm": "沙尘暴",
}
"""English event names some issuers use (matched case-insensitively, whole words)."""

EVENT_CODES = {
    "11B01": "台风",
    "11B03": "暴雨",
    "11B04": "暴雪",
    "11B05": "寒潮",
    "11B06": "大风",
    "11B07": "沙尘暴",
    "11B09": "高温",
    "11B14": "雷电",
    "11B15": "冰雹",
    "11B16": "霜冻",
    "11B17": "大雾",
    "11B19": "霾",
    "11B20": "雷雨大风",
    "11B21": "道路结冰",
    "11B22": "干旱",
}
"""CN-WARNING-TYPE eventCode values → event: the meteorological-disaster codes (11B..) of the national
emergency-event classification as this parser accepts them; any other code falls back to the texts."""

EVENT_CODE_NAMES = frozenset({"cnwarningtype", "warningtype", "预警类型"})
COLOUR_PARAMETER_NAMES = frozenset(
    {"alertcolor", "alertcolour", "color", "colour", "warningcolor", "warningcolour", "signalcolor", "预警颜色", "颜色"}
)
REPEATABLE = frozenset({"info", "area", "parameter", "eventCode", "geocode", "polygon", "circle"})
"""The repeatable CAP elements this parser reads; every other element is read as a single text."""
ADMIN_CODE_NAMES = ("gbt2260", "adcode", "admincode", "行政区划代码")
"""Geocode valueNames carrying GB/T 2260 codes, as prefixes of the name normalised by ``_norm``."""

COLOURS = {
    "红色": WarningColour.RED,
    "橙色": WarningColour.ORANGE,
    "黄色": WarningColour.YELLOW,
    "蓝色": WarningColour.BLUE,
    "红": WarningColour.RED,
    "橙": WarningColour.ORANGE,
    "黄": WarningColour.YELLOW,
    "蓝": WarningColour.BLUE,
    "red": WarningColour.RED,
    "orange": WarningColour.ORANGE,
    "yellow": WarningColour.YELLOW,
    "blue": WarningColour.BLUE,
}
"""Colour words (parameters are matched whole, case-insensitively; texts by the word)."""

LEVEL_COLOURS = {"1": WarningColour.RED, "2": WarningColour.ORANGE, "3": WarningColour.YELLOW, "4": WarningColour.BLUE}
COLOUR_SEVERITY = {
    WarningColour.RED: AlertSeverity.EXTREME,
    WarningColour.ORANGE: AlertSeverity.SEVERE,
    WarningColour.YELLOW: AlertSeverity.MODERATE,
    WarningColour.BLUE: AlertSeverity.MINOR,
}

CIRCLE_VERTICES = 64
COORDINATE_DIGITS = 7

_EVENT_WORDS = re.compile("|".join(sorted(EVENTS, key=len, reverse=True)))
_ENGLISH_WORDS = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, ENGLISH_EVENTS), key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_COLOUR_WORDS = re.compile(r"([红橙黄蓝])色|\b(red|orange|yellow|blue)\b", re.IGNORECASE)
_EVENT_CODE = re.compile(r"^(11B\d{2})(?:[-_]?0?([1-4]))?$")
_NAME_NOISE = re.compile(r"[\s/_\-]")
_ADMIN_CODE = re.compile(r"^\d{6}$")
_GEOD = Geod(ellps="WGS84")
_AZIMUTHS = np.linspace(0.0, 360.0, CIRCLE_VERTICES, endpoint=False)

Fields = dict[str, list[Element]]
Texts = dict[str, str]
Ring = list[list[float]]


def parse(data: bytes, ctx: ParseContext) -> Parsed:
    """Parse one CAP document (an alert, or an Atom/RSS feed of them) into Alert records."""
    parsed = Parsed(snapshot=False)
    with gc_paused():
        _read(parse_xml(data, ctx.charset), parsed, ctx)  # the tree is freed on return, before the collector is back on
    return parsed


def _read(root: Element, parsed: Parsed, ctx: ParseContext) -> None:
    """Every embedded alert as a record or a rejection; of a repeated identifier the first is kept."""
    seen: set[str] = set()
    for where, elem in _embedded(root):
        _add(parsed, where, elem, ctx, seen)


# --------------------------------------------------------------------------- document structure
def _embedded(root: Element) -> Iterator[tuple[str, Element | None]]:
    """Each alert element with where it sits; None for an entry that embeds none."""
    name = local(root.tag)
    if name == "alert":
        if namespace(root.tag) not in CAP_NAMESPACES:
            raise FeedError(f"root element <alert> is in namespace {namespace(root.tag)!r}, not CAP 1.1 or 1.2")
        yield "alert", root
        return
    if name == "feed":
        label, entries = "entry", children(root, "entry")
    elif name == "rss":
        label, entries = "item", [i for c in children(root, "channel") for i in children(c, "item")]
    else:
        raise FeedError(f"root element <{name}> is not a CAP <alert>, an Atom <feed> or an RSS <rss>", f"<{root.tag}>")
    for number, entry in enumerate(entries, 1):
        alerts = _alerts_in(entry)
        if not alerts:
            yield f"{label} {number}", None
        for elem in alerts:
            yield f"{label} {number}", elem


def _alerts_in(entry: Element) -> list[Element]:
    """Alerts embedded in an Atom entry or RSS item: directly, or inside <content>."""
    found = []
    for c in entry:
        name = LOCAL_NAMES[c.tag]
        if name == "alert":
            found.append(c)
        elif name == "content":
            found += [a for a in c if LOCAL_NAMES[a.tag] == "alert"]
    return found


def _add(parsed: Parsed, where: str, elem: Element | None, ctx: ParseContext, seen: set[str]) -> None:
    """Build one record, or note why the item is left out."""
    if elem is None:
        parsed.reject(where, "no embedded CAP <alert> (linked alerts are not fetched)")
        return
    texts, fields = _index(elem)
    try:
        record = _alert(elem, texts, fields, ctx)
    except ValueError as err:
        parsed.reject(_named(where, texts), str(err))
        return
    if record.source_id in seen:
        parsed.reject(_named(where, texts), "identifier repeats an earlier alert of this document; the first is kept")
        return
    seen.add(record.source_id)
    parsed.records.append(record)


def _named(where: str, texts: Texts) -> str:
    """Where an item sits, with its alert's identifier when it has one (worded only for rejections)."""
    identifier = texts.get("identifier")
    if identifier is None:
        return where
    return f"alert {identifier}" if where == "alert" else f"{where} (alert {identifier})"


def _index(elem: Element) -> tuple[Texts, Fields]:
    """Children by local name, in one pass: the stripped text of each single element, every repeatable one.

    CAP elements are looked up many times; one walk over the children serves every lookup. A
    single element given twice counts once (its first non-empty text).
    """
    texts: Texts = {}
    fields: Fields = {}
    for c in elem:
        name = LOCAL_NAMES[c.tag]
        if name in REPEATABLE:
            found = fields.get(name)
            if found is None:
                fields[name] = [c]
            else:
                found.append(c)
        elif name not in texts:
            value = c.text
            if value and (value := value.strip()):
                texts[name] = value
    return texts, fields


def _required(texts: Texts, name: str) -> str:
    value = texts.get(name)
    if value is None:
        raise ValueError(f"<{name}> is missing")
    return value


# --------------------------------------------------------------------------- one alert
def _alert(elem: Element, texts: Texts, fields: Fields, ctx: ParseContext) -> Alert:
    """One CAP message as an Alert; ValueError names what makes it unpublishable.

    The record is validated in one ``model_validate`` call from plain dicts (areas, their
    geometry and translations included), so each part is checked exactly once.
    """
    if elem.tag not in ALERT_TAGS:
        raise ValueError(f"<alert> in namespace {namespace(elem.tag)!r} is not CAP 1.1 or 1.2")
    identifier = _required(texts, "identifier")
    sent = parse_time(_required(texts, "sent"), ctx, "sent")
    msg_type = _msg_type(_required(texts, "msgType"))
    status = _required(texts, "status")
    if status != "Actual":
        raise ValueError(f"status {status} is not published")
    scope = texts.get("scope")
    if scope is not None and scope not in PUBLIC_SCOPES:
        raise ValueError(f"scope {scope} is not published")
    infos = fields.get("info")
    if infos:
        record = _content(infos, ctx)
    elif msg_type is AlertMsgType.CANCEL:
        record = {"event": CANCEL_EVENT}
    else:
        raise ValueError(f"{msg_type} message has no <info>")
    record["id"] = f"{ctx.source}:{identifier}"
    record["source"] = ctx.source
    record["source_id"] = record["identifier"] = identifier
    record["version"] = version_of(sent)
    record["updated_at"] = record["sent"] = sent
    record["sender"] = _required(texts, "sender")
    record["msg_type"] = msg_type
    references = texts.get("references")
    if references is not None:  # absent, like translations of a single info: the model's default, []
        record["references"] = _references(references)
    try:
        return Alert.model_validate(record)
    except ValidationError as err:
        raise ValueError(validation_reason(err, partial(_area_loc, record.get("areas", ())))) from None


def _area_loc(areas: list[dict[str, Any]], loc: tuple[int | str, ...]) -> str:
    """An error's location, an area's named as the area (``areas.0.geometry`` → ``area 1 (中牟县): geometry``)."""
    if len(loc) > 1 and loc[0] == "areas" and type(loc[1]) is int:
        rest = ".".join(str(p) for p in loc[2:])
        area = f"area {loc[1] + 1} ({areas[loc[1]]['area_desc']})"
        return f"{area}: {rest}" if rest else area
    return ".".join(str(p) for p in loc)


def _msg_type(value: str) -> AlertMsgType:
    if value in UNPUBLISHED_MSG_TYPES:
        raise ValueError(f"msgType {value} is not published (acknowledgements and errors carry no alert)")
    try:
        return MSG_TYPES[value]
    except KeyError:
        raise ValueError(f"unknown msgType {value!r}") from None


def _references(value: str) -> list[str]:
    """The raw sender,identifier,sent triples an Update or Cancel points at."""
    refs = value.split()
    for ref in refs:
        if ref.count(",") != 2 or "" in ref.split(","):
            raise ValueError(f"reference {ref!r} is not sender,identifier,sent")
    return refs


def _content(infos: list[Element], ctx: ParseContext) -> dict[str, Any]:
    """The Alert's fields from its infos: the primary (first zh, else first) and the others' texts.

    An info without ``<language>`` is en-US, as CAP says.
    """
    indexed = list(map(_index, infos))
    languages = [texts.get("language", DEFAULT_LANGUAGE) for texts, _ in indexed]
    primary = _primary_number(languages)
    content = _primary(*indexed[primary], ctx, primary + 1)
    content["language"] = languages[primary]
    if len(indexed) > 1:
        content["translations"] = [
            _translation(texts, languages[n], n + 1) for n, (texts, _) in enumerate(indexed) if n != primary
        ]
    return content


def _primary_number(languages: list[str]) -> int:
    """Index of the first zh info, else 0."""
    for n, language in enumerate(languages):
        if language.lower().startswith("zh"):
            return n
    return 0


def _translation(texts: Texts, language: str, number: int) -> dict[str, Any]:
    """An AlertText of a non-primary info."""
    return {
        "language": language,
        "event": _info_event(texts, number),
        "headline": texts.get("headline"),
        "description": texts.get("description"),
        "instruction": texts.get("instruction"),
    }


def _info_event(texts: Texts, number: int) -> str:
    event = texts.get("event")
    if event is None:
        raise ValueError(f"info {number}: <event> is missing")
    return event


def _primary(texts: Texts, fields: Fields, ctx: ParseContext, number: int) -> dict[str, Any]:
    """Fields of the primary info: texts, codes, warning signal, times and areas."""
    event_text = _info_event(texts, number)
    headline = texts.get("headline")
    signal_code, code_colour = _event_code(_pairs(fields, "eventCode")) if "eventCode" in fields else (None, None)
    colour = _parameter_colour(_pairs(fields, "parameter")) or code_colour or _text_colour(event_text, headline)
    severity = _code(texts, "severity")
    if severity is AlertSeverity.UNKNOWN and colour is not None:
        severity = COLOUR_SEVERITY[colour]
    effective = _time(texts, "effective", ctx)
    return {
        "event": signal_code or _recognise(event_text) or _recognise(headline) or event_text,
        "colour": colour,
        "severity": severity,
        "urgency": _code(texts, "urgency"),
        "certainty": _code(texts, "certainty"),
        "headline": headline,
        "description": texts.get("description"),
        "instruction": texts.get("instruction"),
        "effective": effective,
        "onset": _time(texts, "onset", ctx) or effective,
        "expires": _time(texts, "expires", ctx),
        "areas": [_area(*_index(a), n) for n, a in enumerate(fields.get("area", ()), 1)],
    }


def _time(texts: Texts, name: str, ctx: ParseContext) -> datetime | None:
    """A CAP time element in UTC, None when absent or empty."""
    value = texts.get(name)
    return parse_time(value, ctx, name) if value else None


_CODES: dict[str, dict[str, Any]] = {
    name: {member.value.lower(): member for member in enum}
    for name, enum in (("severity", AlertSeverity), ("urgency", AlertUrgency), ("certainty", AlertCertainty))
}
"""CAP code element → its values, lower-cased (every one has Unknown)."""


def _code(texts: Texts, name: str) -> Any:
    """A CAP code value (case-insensitive); absent is Unknown, anything else unknown is refused."""
    value = texts.get(name)
    member = _CODES[name].get("unknown" if value is None else value.lower())
    if member is None:
        raise ValueError(f"unknown {name} {value!r}")
    return member


def _pairs(fields: Fields, name: str) -> list[tuple[str, str]]:
    """(valueName, value) of every ``name`` child (parameter, eventCode, geocode)."""
    out = []
    for elem in fields.get(name, ()):
        key = value = None
        for c in elem:
            text = c.text
            if text:
                tag = LOCAL_NAMES[c.tag]
                if tag == "valueName":
                    key = text.strip()
                elif tag == "value":
                    value = text.strip()
        if key and value:
            out.append((key, value))
    return out


@lru_cache(maxsize=512)
def _norm(name: str) -> str:
    """A valueName without case, spaces, '/', '_' or '-' (GB/T 2260 → gbt2260); few distinct ones."""
    return _NAME_NOISE.sub("", name).lower()


# --------------------------------------------------------------------------- warning signals
def _event_code(codes: list[tuple[str, str]]) -> tuple[str | None, WarningColour | None]:
    """Event and colour level from a CN-WARNING-TYPE eventCode (11B17, 11B173, 11B17-3)."""
    for name, value in codes:
        if _norm(name) in EVENT_CODE_NAMES:
            match = _EVENT_CODE.match(value.upper())
            if match and match.group(1) in EVENT_CODES:
                return EVENT_CODES[match.group(1)], LEVEL_COLOURS.get(match.group(2) or "")
    return None, None


def _parameter_colour(parameters: list[tuple[str, str]]) -> WarningColour | None:
    for name, value in parameters:
        if _norm(name) in COLOUR_PARAMETER_NAMES:
            colour = COLOURS.get(value.lower())
            if colour is None:
                raise ValueError(f"parameter {name} value {value!r} is not a warning colour")
            return colour
    return None


def _text_colour(*texts: str | None) -> WarningColour | None:
    """The last colour word of the first text that has one (an upgrade names the new colour last)."""
    for value in texts:
        if value:
            found = _COLOUR_WORDS.findall(value)
            if found:
                zh, en = found[-1]
                return COLOURS[(zh or en).lower()]
    return None


def _recognise(value: str | None) -> str | None:
    """The bare zh event a text names (大雾黄色预警 → 大雾), if any."""
    if not value:
        return None
    match = _EVENT_WORDS.search(value)
    if match:
        return match.group(0)
    match = _ENGLISH_WORDS.search(value)
    return ENGLISH_EVENTS[match.group(1).lower()] if match else None


# --------------------------------------------------------------------------- areas
def _area(texts: Texts, fields: Fields, number: int) -> dict[str, Any]:
    """One <area>: description, GB/T 2260 codes and its shapes as one geometry (validated with the Alert)."""
    desc = texts.get("areaDesc")
    if desc is None:
        raise ValueError(f"area {number}: <areaDesc> is missing")
    try:
        rings = [_polygon(p.text or "") for p in fields.get("polygon", ())]
        if "circle" in fields:
            rings += [_circle(c.text or "") for c in fields["circle"]]
        return {"area_desc": desc, "admin_codes": _admin_codes(_pairs(fields, "geocode")), "geometry": _combine(rings)}
    except ValidationError as err:
        raise ValueError(f"area {number} ({desc}): {validation_reason(err)}") from err
    except ValueError as err:
        raise ValueError(f"area {number} ({desc}): {err}") from err


def _admin_codes(geocodes: list[tuple[str, str]]) -> list[str]:
    codes: list[str] = []
    for name, value in geocodes:
        if _norm(name).startswith(ADMIN_CODE_NAMES):
            if not _ADMIN_CODE.match(value):
                raise ValueError(f"geocode {name} value {value!r} is not a 6-digit GB/T 2260 code")
            if value not in codes:
                codes.append(value)
    return codes


def _polygon(value: str) -> Ring:
    """A CAP polygon ("lat,lon lat,lon …") as a closed lon/lat ring."""
    values = value.replace(",", " ").split()  # commas and whitespace both separate values
    if len(values) % 2:
        raise ValueError(f"polygon has an odd number of values ({len(values)}); expected lat,lon pairs")
    try:
        numbers = iter(list(map(float, values)))
    except ValueError:
        raise ValueError("polygon has a value that is not a number") from None
    return _ring([[lon, lat] for lat, lon in zip(numbers, numbers, strict=True)], "polygon")


def _circle(value: str) -> Ring:
    """A CAP circle ("lat,lon radius_km") as a geodesic polygon of CIRCLE_VERTICES vertices."""
    parts = value.split()
    centre = parts[0].split(",") if parts else []
    if len(parts) != 2 or len(centre) != 2:
        raise ValueError(f"circle {value.strip()!r} is not 'lat,lon radius_km'")
    try:
        lat, lon, radius_km = float(centre[0]), float(centre[1]), float(parts[1])
    except ValueError:
        raise ValueError(f"circle {value.strip()!r} has a value that is not a number") from None
    _check_position(lon, lat, "circle centre")
    if not (math.isfinite(radius_km) and radius_km > 0):
        raise ValueError(f"circle radius {parts[1]} km is not a positive distance")
    n = CIRCLE_VERTICES
    lons, lats, _ = _GEOD.fwd(np.full(n, lon), np.full(n, lat), _AZIMUTHS, np.full(n, radius_km * 1000.0))
    if np.ptp(lons) > 180.0:  # wrapped at ±180°: as lon/lat it would span the other way round the globe
        raise ValueError("circle crosses the antimeridian or a pole")
    ring = np.column_stack((lons, lats)).round(COORDINATE_DIGITS).tolist()
    return _ring(ring, "circle")


def _ring(ring: Ring, what: str) -> Ring:
    """Close and range-check a lon/lat ring (naming lat/lon mix-ups); Geometry checks its validity."""
    for lon, lat in ring:
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # NaN fails these too
            _check_position(lon, lat, what)
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    if len(ring) < 4:
        raise ValueError(f"{what} has {len(ring)} positions; a ring needs at least 4 (3 distinct, closed)")
    return ring


def _check_position(lon: float, lat: float, what: str) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"{what} has a non-finite coordinate")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"{what} latitude {lat} is outside [-90, 90] (CAP writes lat,lon)")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"{what} longitude {lon} is outside [-180, 180]")


def _combine(rings: list[Ring]) -> dict[str, Any] | Geometry | None:
    """One area's shapes: a Polygon, a MultiPolygon, or their union where they overlap or touch.

    A single ring is handed to the model as GeoJSON so that Geometry checks it exactly once;
    several are checked here first, as a union would silently repair an invalid ring.
    """
    if not rings:
        return None
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings}
    polygons = [shapely.polygons(ring) for ring in rings]
    for polygon in polygons:
        if not shapely.is_valid(polygon):
            raise ValueError(f"invalid Polygon: {shapely.is_valid_reason(polygon)}")
    if shapely.is_valid(shapely.multipolygons(polygons)):
        return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
    try:
        return Geometry.from_shape(shapely.unary_union(polygons))
    except shapely.errors.GEOSException as err:
        raise ValueError(f"shapes cannot be merged: {err}") from err
