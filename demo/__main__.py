"""``python -m demo`` (what ``make run`` runs): the service polling a feed simulator, from a checkout.

The simulator starts on 127.0.0.1 first; then the normal app (``api.app.create_app``) is served with
the simulator's sources added to the configured ones. The service itself knows nothing of the demo:
everything else comes from the usual settings (``TRAVEL_HOST``, ``TRAVEL_PORT``, ``DATABASE_URL`` …).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from aiohttp import web

from api.app import create_app
from demo.simulator import Simulator
from travel.cli.main import run_server
from travel.core.settings import Settings


async def demo_app(settings: Settings, step_s: float) -> web.Application:
    """The app polling a simulator that advances its story every ``step_s`` seconds (stopped at cleanup)."""
    simulator = Simulator(step_s=step_s)
    await simulator.start()
    app = create_app(settings, extra_sources=simulator.sources())

    async def stop_simulator(_: web.Application) -> None:
        await simulator.stop()

    app.on_cleanup.append(stop_simulator)  # after the cleanup contexts: the pollers have stopped
    return app


def positive(text: str) -> float:
    """A number of seconds above zero."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above zero")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the demo's one option and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="Serve the API (settings from the environment, as `travel serve`) polling a feed simulator "
                    "started on 127.0.0.1.")
    parser.add_argument("--step-s", type=positive, default=60.0,
                        help="seconds between the demo story's steps (default 60)")
    args = parser.parse_args(argv)
    settings = Settings().model_copy(update={"load_geodata": True})
    run_server(settings, demo_app(settings, args.step_s))


if __name__ == "__main__":
    main()
