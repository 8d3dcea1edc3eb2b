"""What every feed parser shares: its context, its result, its errors and safe decoding helpers.

A parser is a pure function ``parse(data: bytes, ctx: ParseContext) -> Parsed``: bytes in,
normalized records out, no I/O. A document that cannot be read at all (not XML, an entity bomb,
truncated, the wrong root element, the wrong encoding) raises :class:`FeedError`; a single bad item
inside a readable document is skipped and listed in ``Parsed.rejected`` with where it was and why,
so one bad record never hides the good ones next to it.
"""

from __future__ import annotations

import codecs
import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError, XMLParser

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import ValidationError

from travel.core.records import Kind, Record

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""No feed document is larger than this (the largest real DATEX II snapshots are a few MB)."""

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.\-]+)[\"'][^>]*\?>")
_CHINESE_ENCODINGS = frozenset({"gbk", "gb2312", "gb18030", "cp936"})
_ROAD_FIRST = re.compile(r"^([GSXYZgsxyz][0-9]{1,4})(?![0-9A-Za-z])\s*(.*)$", re.S)
_ROAD_LAST = re.compile(r"^(.*?)\s*[(（]\s*([GSXYZgsxyz][0-9]{1,4})\s*[)）]$", re.S)


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser needs to know about where a document came from.

    ``zone`` is the source's time zone (e.g. ``ZoneInfo("Asia/Shanghai")``) for times written
    without an offset; without one such times are refused, never guessed. ``charset`` is the
    encoding the transport declared (HTTP ``Content-Type``), for formats that do not declare their
    own (JSON, CSV).
    """

    source: str = "feed"
    zone: Any = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    charset: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """One item of a document that was left out, with where it was and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Patch:
    """New values for some fields of a record another feed owns (e.g. a service area's open status).

    The ingest step applies it to the current record as a new version, and not at all when the
    values are already those; nested objects (``facilities``) are merged field by field.
    """

    kind: Kind
    id: str
    fields: dict[str, Any]
    updated_at: datetime


@dataclass(slots=True)
class Parsed:
    """The outcome of parsing one document.

    ``snapshot`` says the document lists everything current of its kinds for its source, so a record
    the source published before and that is absent now has ended (WZDx, DATEX II snapshots).
    """

    records: list[Record] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    snapshot: bool = False

    def reject(self, where: str, reason: str) -> None:
        """Note one item left out."""
        self.rejected.append(Rejected(where, reason))


class FeedError(ValueError):
    """The whole document is refused; nothing from it is used."""

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.where = where


# --------------------------------------------------------------------------- bytes → text / XML
def check_size(data: bytes) -> None:
    """Refuse documents larger than ``MAX_DOCUMENT_BYTES``."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"document of {len(data)} bytes is larger than the limit of {MAX_DOCUMENT_BYTES}")


def decode_text(data: bytes, ctx: ParseContext) -> str:
    """Text of a JSON or CSV document: the declared charset, else UTF-8 (a BOM is dropped).

    Bytes that are not valid in the expected encoding are refused with the offset, and a hint when
    they look like GBK, the usual mistake of Chinese spreadsheet exports.
    """
    check_size(data)
    encoding = _canonical(ctx.charset) if ctx.charset else "utf-8"
    if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("gb18030" if encoding in _CHINESE_ENCODINGS else encoding)
    except UnicodeDecodeError as err:
        raise FeedError(_encoding_reason(data, encoding, err)) from err
    except LookupError as err:
        raise FeedError(f"unknown character encoding {ctx.charset!r}") from err


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a document is read.

    A large document builds many elements and records, none in reference cycles; the collector
    would otherwise rescan the growing heap again and again (a third to half of the parse time).
    It is switched back on afterwards only if it was on before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_json(data: bytes, ctx: ParseContext) -> Any:
    """A JSON document's value; FeedError (with line and column) when it is not valid JSON.

    NaN and Infinity are refused (not JSON, and not storable), as is nesting too deep to read.
    """
    text = decode_text(data, ctx)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise FeedError(f"not valid JSON: {err.msg}", f"line {err.lineno}, column {err.colno}") from err
    except (ValueError, RecursionError) as err:  # NaN/Infinity, over-long integers, absurd nesting
        raise FeedError(f"not valid JSON: {err}") from err


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_xml(data: bytes, charset: str | None = None) -> Element:
    """Parse untrusted XML: no DTDs, no entities, no external references; GBK declared is honoured.

    ``charset`` is the transport's (HTTP ``Content-Type``): it is used when the document declares
    no encoding and starts with no byte-order mark, where XML alone would read UTF-8; a document's
    own declaration wins, as the document knows its bytes better than a server's configuration.

    Entity bombs and external references need a ``<!DOCTYPE``, so a UTF-8 document without one goes
    straight to the C tree builder (defusedxml runs pure-Python callbacks, several times slower);
    anything else, and anything the C parser refuses, goes through defusedxml, which refuses every
    DTD and words the error.
    """
    check_size(data)
    declared = _XML_DECLARATION.match(data)
    if charset is not None and declared is None:
        data = _transcoded(data, charset)  # still undeclared
    utf8 = declared is None or _canonical(declared.group(1).decode("ascii")) == "utf-8"
    if utf8 and b"<!DOCTYPE" not in data and b"\x00" not in data:
        parser = XMLParser()
        try:
            parser.feed(data)
            return parser.close()
        except ParseError:
            pass
    return _parse_xml_defused(data)


def _parse_xml_defused(data: bytes) -> Element:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    declared = _XML_DECLARATION.match(data)
    encoding = _canonical(declared.group(1).decode("ascii")) if declared else "utf-8"
    if encoding in _CHINESE_ENCODINGS:
        # expat reads no multi-byte Chinese encoding: decode here and hand it UTF-8.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as err:
            raise FeedError(_encoding_reason(data, encoding, err)) from err
        data = text.replace(declared.group(0).decode("ascii"), '<?xml version="1.0" encoding="UTF-8"?>', 1).encode()
        encoding = "utf-8"
    if encoding == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise FeedError(_encoding_reason(data, encoding, err)) from err
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise FeedError(f"refused: the document declares a DTD or entities ({type(err).__name__})") from err
    except ParseError as err:
        line, column = err.position
        raise FeedError(f"not well-formed XML: {_expat_message(err)}", f"line {line}, column {column + 1}") from err
    except (LookupError, ValueError) as err:  # an unknown encoding, or a multi-byte one expat cannot read
        name = declared.group(1).decode("ascii") if declared else encoding
        raise FeedError(f"unknown or unsupported character encoding {name!r} (send UTF-8 or GBK)") from err


def _transcoded(data: bytes, charset: str) -> bytes:
    """``data`` in UTF-8 when the transport names another encoding and no byte-order mark overrides it."""
    encoding = _canonical(charset)
    if encoding == "utf-8" or data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data
    codec = "gb18030" if encoding in _CHINESE_ENCODINGS else encoding
    try:
        return data.decode(codec).encode()
    except LookupError as err:
        raise FeedError(f"unknown or unsupported character encoding {charset!r} (send UTF-8 or GBK)") from err
    except UnicodeDecodeError as err:
        raise FeedError(_encoding_reason(data, encoding, err)) from err


def _canonical(name: str) -> str:
    try:
        return codecs.lookup(name).name.replace("_", "-")
    except LookupError:
        return name.lower()


def _encoding_reason(data: bytes, encoding: str, err: UnicodeDecodeError) -> str:
    reason = f"bytes at offset {err.start} are not valid {encoding.upper()}"
    if encoding == "utf-8":
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            return reason
        return reason + " (the document looks GBK-encoded: declare it, or send UTF-8)"
    return reason


def _expat_message(err: ParseError) -> str:
    return str(err).split(":", 1)[0]


# --------------------------------------------------------------------------- XML element helpers
class _LocalNames(dict[str, str]):
    """Tag → local name, filled on first use and bounded (documents choose their tags)."""

    def __missing__(self, tag: str) -> str:
        name = tag[tag.rfind("}") + 1 :]
        if len(self) < MAX_LOCAL_NAMES:
            self[tag] = name
        return name


MAX_LOCAL_NAMES = 4096
LOCAL_NAMES: dict[str, str] = _LocalNames()
"""The table behind :func:`local`: a loop over thousands of elements indexes it directly, without a call.

Parsers ask for the same few names again and again, and slicing the long namespaced tags was a
third of the time spent walking a CAP tree.
"""


def local(tag: str) -> str:
    """An element's name without its namespace (``{urn:…}alert`` → ``alert``)."""
    return LOCAL_NAMES[tag]


def namespace(tag: str) -> str:
    """An element's namespace URI ('' when none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def child(elem: Element, name: str) -> Element | None:
    """The first child named ``name`` in any namespace."""
    for c in elem:
        if local(c.tag) == name:
            return c
    return None


def children(elem: Element, name: str) -> list[Element]:
    """Every child named ``name`` in any namespace."""
    return [c for c in elem if local(c.tag) == name]


def text(elem: Element | None, name: str | None = None) -> str | None:
    """Stripped text of ``elem`` (or of its child ``name``); None when absent or empty."""
    if elem is not None and name is not None:
        elem = child(elem, name)
    if elem is None or elem.text is None:
        return None
    value = elem.text.strip()
    return value or None


# --------------------------------------------------------------------------- values
def parse_time(value: str, ctx: ParseContext, what: str) -> datetime:
    """An ISO 8601 time in UTC; one without an offset is read in the source's zone, or refused."""
    raw = value.strip()
    try:
        parsed = datetime.fromisoformat(raw)  # reads most times ending in Z since Python 3.11
    except ValueError:
        parsed = _utc_suffix_time(raw, value, what)
    if parsed.tzinfo is None:
        if ctx.zone is None:
            raise ValueError(f"{what} {value!r} has no time zone and the source declares none")
        parsed = parsed.replace(tzinfo=ctx.zone)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as err:  # e.g. 0001-01-01T00:00+08:00
        raise ValueError(f"{what} {value!r} is out of the supported range") from err


def _utc_suffix_time(raw: str, value: str, what: str) -> datetime:
    """A time ending in Z or z that ``fromisoformat`` refuses as written (a lower-case z, a bare date); else refused."""
    if raw.endswith(("Z", "z")):
        try:
            return datetime.fromisoformat(raw[:-1] + "+00:00")
        except ValueError:
            pass
    raise ValueError(f"{what} {value!r} is not an ISO 8601 time")


def split_road(words: str) -> tuple[str | None, str | None]:
    """Road code and name from ``G4``, ``G4京港澳高速``, ``G4 京港澳高速`` or ``京港澳高速(G4)``.

    Words without a national/provincial/county road code give (None, words), so the caller keeps
    them as the name and location text, never as a code.
    """
    words = words.strip()
    first = _ROAD_FIRST.match(words)
    if first:
        return first.group(1).upper(), first.group(2).strip() or None
    last = _ROAD_LAST.match(words)
    if last:
        return last.group(2).upper(), last.group(1).strip() or None
    return None, words or None


def version_of(moment: datetime) -> int:
    """A record version from the time the source last changed it: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def validation_reason(err: ValidationError, name: Callable[[tuple[int | str, ...]], str] | None = None) -> str:
    """A one-line reason from a pydantic error: every failing field and its message.

    ``name`` words a location instead of the dotted path, for a record validated in one call from
    nested parts whose errors should name the part as the parser does (an area by its description).
    """
    parts = []
    for e in err.errors(include_url=False):
        loc = name(e["loc"]) if name else ".".join(str(p) for p in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)
