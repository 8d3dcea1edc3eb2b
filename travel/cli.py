"""The ``travel`` command line (also ``python -m travel``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from travel.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from api.access_log import JsonAccessLogger
    from api.app import create_app
    from travel.logs import configure_logging

    settings = Settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.demo:
        overrides["load_geodata"] = True
    settings = settings.model_copy(update=overrides)
    configure_logging(settings.log_level)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=JsonAccessLogger,
        print=None,
    )
    return 0


async def _import_bundle() -> int:
    from rich.console import Console

    from travel.bus import make_bus
    from travel.ingest import import_bundle
    from travel.store import make_store

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(prog="travel", description="Henan road and waterway travel information")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API, pages and feed scheduler")
    serve.add_argument("--host", help="listen address (default TRAVEL_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default TRAVEL_PORT or 8080)")
    serve.add_argument("--demo", action="store_true", help="load the bundled Henan geodata into an empty store")
    imp = sub.add_parser("import", help="load reference data into the configured store")
    imp.add_argument("kind", choices=["bundle"], help="bundle: the bundled Henan geodata")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return asyncio.run(_import_bundle())


if __name__ == "__main__":
    sys.exit(main())
