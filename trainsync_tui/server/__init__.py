"""`trainsync serve`: the seed's HTTP API on top of the engine (docs/API.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiohttp import web

from trainsync_tui.engine.api import Engine
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ConfigError
from trainsync_tui.server.accesslog import RedactingAccessLogger, setup_logging
from trainsync_tui.server.app import make_app
from trainsync_tui.server.auth import resolve_token

__all__ = ["make_app", "run_server", "url_for"]

# Long enough for a sync to finish its clean-up after the shutdown cancelled it.
SHUTDOWN_SECONDS = 30.0


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_server(settings: Settings, host: str, port: int, token: str | None) -> int:
    """Serve until Ctrl-C or SIGTERM, which cancel running syncs cleanly; 0 when stopped."""
    token = resolve_token(host, token, "serve")
    settings.require_bucket()
    engine = Engine(settings, who="trainsync serve")
    app = make_app(engine, token)
    asyncio.run(_serve(app, host, port, settings, token is not None))
    return 0


async def _serve(
    app: web.Application, host: str, port: int, settings: Settings, with_token: bool
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log=setup_logging("trainsync.access"),
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    setup_logging("trainsync.serve")
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port"
            ) from None
        bound = runner.addresses[0][1] if runner.addresses else port
        auth = "bearer token required" if with_token else "loopback only, no token"
        print(
            f"trainsync serve: listening on {url_for(host, bound)} ({auth}); "
            f"root {settings.root}, bucket {settings.bucket}. Ctrl-C stops.",
            flush=True,
        )
        await stop.wait()
        print("trainsync serve: stopping (running syncs are cancelled cleanly)…",
              file=sys.stderr, flush=True)
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
