"""``travel feeds parse`` and ``travel sources``: the feed tools of the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from feeds import FORMATS, parse
from feeds.base import FeedError, ParseContext, Parsed


class Subcommands(Protocol):
    """What ``ArgumentParser.add_subparsers`` returns, as far as we use it (its class is private to argparse)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_commands(sub: Subcommands) -> None:
    """Register ``feeds`` and ``sources`` on the top-level parser."""
    feeds = sub.add_parser("feeds", help="feed tools")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    listing = "; ".join(f"{f.name}: {f.description}" for f in FORMATS.values())
    p = feeds_sub.add_parser("parse", help="parse one feed document and print normalized records as JSON Lines",
                             description=f"Formats — {listing}")
    p.add_argument("--format", required=True, choices=list(FORMATS), metavar="FORMAT",
                   help=f"one of: {', '.join(FORMATS)}")
    p.add_argument("file", help="the document, or - for standard input")
    p.add_argument("--source", default="feed", help="source id the record ids are made with (default: feed)")
    p.add_argument("--zone", default="Asia/Shanghai",
                   help="zone of times written without an offset (default Asia/Shanghai; 'none' refuses them)")
    p.add_argument("--charset", help="encoding of a JSON/CSV document that is not UTF-8 (e.g. GBK)")
    p.add_argument("--lenient", action="store_true",
                   help="print the good records of a document with bad items (reasons on stderr, exit 0)")
    feeds_sub.add_parser("formats", help="list the feed formats")
    src = sub.add_parser("sources", help="health of every configured source, from the running service")
    src.add_argument("--url", default=None, help="the service (default http://TRAVEL_HOST:TRAVEL_PORT)")
    src.add_argument("--json", action="store_true", help="print the JSON answer instead of a table")


def run_feeds(args: argparse.Namespace) -> int:
    """``travel feeds …``."""
    if args.feeds_command == "formats":
        for f in FORMATS.values():
            print(f"{f.name}\t{f.description}")
        return 0
    try:
        zone = None if args.zone.lower() == "none" else ZoneInfo(args.zone)
    except (ZoneInfoNotFoundError, ValueError):
        return _refuse(f"unknown time zone {args.zone!r}")
    try:
        data = _read(sys.stdin.buffer if args.file == "-" else Path(args.file))
    except OSError as err:
        return _refuse(f"{args.file}: {err.strerror or err}")
    ctx = ParseContext(source=args.source, zone=zone, charset=args.charset)
    try:
        parsed = parse(args.format, data, ctx)
    except FeedError as err:
        return _refuse(str(err))
    if parsed.rejected and not args.lenient:
        first = parsed.rejected[0]
        more = f" (and {len(parsed.rejected) - 1} more)" if len(parsed.rejected) > 1 else ""
        return _refuse(f"{first}{more}")
    for rejected in parsed.rejected:
        print(f"rejected: {rejected}", file=sys.stderr)
    sys.stdout.buffer.write(b"".join(_lines(parsed)))
    return 0


def _read(source: Path | BinaryIO) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source.read()


def _refuse(reason: str) -> int:
    print(reason.replace("\n", " "), file=sys.stderr)
    return 2


def _lines(parsed: Parsed) -> list[bytes]:
    """One JSON object per record (with its ``kind``) or patch (``kind`` ``patch``)."""
    out = [orjson.dumps({"kind": r.kind.value, **r.model_dump(mode="json", exclude_none=True)}) + b"\n"
           for r in parsed.records]
    for patch in parsed.patches:
        body: dict[str, Any] = {"kind": "patch", "target_kind": patch.kind.value, "id": patch.id,
                                "fields": patch.fields, "updated_at": patch.updated_at}
        out.append(orjson.dumps(body, default=str) + b"\n")
    return out


def run_sources(args: argparse.Namespace) -> int:
    """``travel sources``: ask the running service; exit 1 when a source is stale or failing."""
    from travel.core.settings import Settings

    settings = Settings()
    url = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/") + "/v1/sources"
    try:
        body = asyncio.run(_get_json(url))
    except (OSError, ValueError) as err:
        print(f"cannot reach the service at {url}: {err}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        _table(body["sources"])
    troubled = [s for s in body["sources"] if s["stale"] or s["consecutive_failures"]]
    return 1 if troubled else 0


async def _get_json(url: str) -> Any:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(10)) as r:
            if r.status != 200:
                raise ValueError(f"HTTP {r.status}")
            return await r.json()
    except aiohttp.ClientError as err:
        raise OSError(str(err)) from err


def _table(sources: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="数据源状态 / source health")
    for column in ("source", "agency", "format", "mode", "state", "age", "last success", "failures", "last error",
                   "records"):
        table.add_column(column)
    for s in sources:
        state = "[red]stale[/red]" if s["stale"] else ("[yellow]failing[/yellow]" if s["consecutive_failures"]
                                                        else "[green]ok[/green]")
        records = ", ".join(f"{k} {n}" for k, n in sorted(s["records"].items())) or "—"
        table.add_row(s["id"], s["agency"], s["format"], s["mode"], state, f"{s['age_s']:.0f} s",
                      (s["last_success"] or "never")[:19], str(s["consecutive_failures"]),
                      (s["last_error"] or "")[:60], records)
    Console().print(table)
