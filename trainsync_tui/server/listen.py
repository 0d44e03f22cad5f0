"""Bind, serve until Ctrl-C or SIGTERM, shut down cleanly: shared by `serve` and `web`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from trainsync_tui.engine.errors import ConfigError
from trainsync_tui.server.accesslog import RedactingAccessLogger, setup_logging

LINGER_SECONDS = 1.0


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve_app(
    app: web.Application,
    host: str,
    port: int,
    *,
    name: str,
    banner: Callable[[str], str],
    shutdown_seconds: float,
    header_timeout: float = 15.0,
) -> None:
    """Listen on host:port, print `banner(url)` once listening, stop on SIGINT/SIGTERM.

    A port in use is a ConfigError (exit 2, one line), not a traceback. A connection that
    has not sent a whole request head `header_timeout` seconds after it opened (or after its
    last answer) is closed: anyone who can connect, token or not, could otherwise hold it.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log=setup_logging(f"trainsync.{name}.access"),
        shutdown_timeout=shutdown_seconds,
        # aiohttp's idle timer also runs while a request head is incomplete.
        keepalive_timeout=header_timeout,
        # A refused request's unread body is drained this long, not aiohttp's 10 s.
        lingering_time=LINGER_SECONDS,
    )
    setup_logging("aiohttp.server")  # its malformed-request errors: one line, no traceback
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
        print(banner(url_for(host, bound)), flush=True)
        await stop.wait()
        print(f"trainsync {name}: stopping…", file=sys.stderr, flush=True)
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
