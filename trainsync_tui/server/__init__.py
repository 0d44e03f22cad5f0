"""`trainsync serve`: the seed's HTTP API on top of the engine (docs/API.md)."""

from __future__ import annotations

import asyncio
import importlib.util

from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ConfigError

__all__ = ["require_serve_extra", "run_server"]

# Long enough for a sync to finish its clean-up after the shutdown cancelled it.
SHUTDOWN_SECONDS = 30.0


def require_serve_extra(command: str, modules: tuple[str, ...] = ("aiohttp",)) -> None:
    """aiohttp and textual-serve are an extra: say how to get them instead of a traceback."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"trainsync {command} needs {module}: "
                "install the serve extra (pip install -e '.[serve]')"
            )


def run_server(settings: Settings, host: str, port: int, token: str | None) -> int:
    """Serve until Ctrl-C or SIGTERM, which cancel running syncs cleanly; 0 when stopped."""
    require_serve_extra("serve")
    from trainsync_tui.engine.facade import Engine
    from trainsync_tui.server.accesslog import setup_logging
    from trainsync_tui.server.app import make_app
    from trainsync_tui.server.auth import resolve_token
    from trainsync_tui.server.listen import serve_app

    token = resolve_token(host, token, "serve")
    settings.require_bucket()
    engine = Engine(settings, who="trainsync serve")
    app = make_app(engine, token)
    setup_logging("trainsync.serve")
    auth = "bearer token required" if token is not None else "loopback only, no token"

    def banner(url: str) -> str:
        return (
            f"trainsync serve: listening on {url} ({auth}); root {settings.root}, "
            f"bucket {settings.bucket}. Ctrl-C stops."
        )

    asyncio.run(
        serve_app(
            app,
            host,
            port,
            name="serve",
            banner=banner,
            shutdown_seconds=SHUTDOWN_SECONDS,
            header_timeout=settings.header_timeout,
        )
    )
    return 0
