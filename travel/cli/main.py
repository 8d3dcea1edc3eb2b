"""The ``travel`` command line (also ``python -m travel``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from travel.core.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web


def _serve(args: argparse.Namespace) -> int:
    from api.app import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings().model_copy(update=overrides)
    run_server(settings, create_app(settings))
    return 0


def run_server(settings: Settings, app: web.Application | Awaitable[web.Application]) -> None:
    """Serve ``app`` on the settings' host and port, logging as JSON, until interrupted.

    ``app`` may be a coroutine that builds it in the server's event loop (the demo starts its
    simulator there first).
    """
    from aiohttp import web

    from api.access_log import JsonAccessLogger
    from travel.core.logs import configure_logging

    configure_logging(settings.log_level)
    web.run_app(app, host=settings.host, port=settings.port, access_log_class=JsonAccessLogger, print=None)


async def _import_bundle() -> int:
    from rich.console import Console

    from travel.ingest.importer import import_bundle
    from travel.store import make_store
    from travel.store.bus import make_bus

    settings = Settings()
    store, bus = make_store(settings), make_bus(settings.redis_url, settings.redis_stream)
    await store.open()
    await bus.start()
    try:
        report = await import_bundle(store, bus)
    finally:
        await bus.stop()
        await store.close()
    Console(stderr=True).print(
        f"imported {report.total} records: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged ({', '.join(f'{k} {n}' for k, n in sorted(report.by_kind.items()))})"
    )
    return 0


async def _import_file(kind_name: str, path: Path, updated_at: str | None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from travel.ingest.importer import KINDS, ImportRefused, RateColumn, import_file
    from travel.store import make_store
    from travel.store.bus import make_bus

    console = Console(stderr=True)
    settings = Settings()
    store, bus = make_store(settings), make_bus(settings.redis_url, settings.redis_stream)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
    task = progress.add_task(f"checking {path.name}", total=None)

    def validated(total: int) -> None:
        progress.reset(task, total=total, description=f"importing {path.name}")

    await store.open()
    await bus.start()
    try:
        with progress:
            report = await import_file(store, bus, KINDS[kind_name], path, updated_at=updated_at,
                                       on_validated=validated, advance=lambda n: progress.advance(task, n))
    except ImportRefused as err:
        for line in err.errors:
            console.print(line, markup=False, highlight=False)
        console.print(f"{path.name}: {len(err.errors)}{' or more' if err.more else ''} bad record(s); "
                      "nothing imported", markup=False, highlight=False)
        return 2
    finally:
        await bus.stop()
        await store.close()
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(report.by_kind.items())) or KINDS[kind_name].value + " 0"
    console.print(f"imported {report.total} records: {report.created} new, {report.updated} updated, "
                  f"{report.unchanged} unchanged ({by_kind})", markup=False, highlight=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(prog="travel", description="Henan road and waterway travel information")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API, pages and feed scheduler")
    serve.add_argument("--host", help="listen address (default TRAVEL_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default TRAVEL_PORT or 8080)")
    imp = sub.add_parser("import", help="load reference data into the configured store")
    from travel.ingest.importer import KINDS

    imp.add_argument("kind", choices=["bundle", *KINDS],
                     help="bundle: the bundled Henan geodata; any other: the records of FILE")
    imp.add_argument("file", nargs="?", type=Path, help="a .geojson/.json or .csv file (not for bundle)")
    imp.add_argument("--updated-at", help="updated_at of records that give none (ISO 8601)")
    from travel.cli.feeds import add_commands

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command in ("feeds", "sources"):
        from travel.cli.feeds import run_feeds, run_sources

        return run_feeds(args) if args.command == "feeds" else run_sources(args)
    if args.kind == "bundle":
        if args.file is not None:
            parser.error("import bundle takes no FILE")
        return asyncio.run(_import_bundle())
    if args.file is None:
        parser.error(f"import {args.kind} needs a FILE")
    return asyncio.run(_import_file(args.kind, args.file, args.updated_at))


if __name__ == "__main__":
    sys.exit(main())
