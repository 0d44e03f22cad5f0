"""The aiohttp Application of `trainsync serve`: routes, middlewares, limits and shutdown."""

from __future__ import annotations

from aiohttp import web

from trainsync_tui.engine.facade import Engine
from trainsync_tui.server import handlers
from trainsync_tui.server.auth import guard_middleware
from trainsync_tui.server.body import MAX_BODY
from trainsync_tui.server.errors import json_errors
from trainsync_tui.server.runtime import RUNTIME, Runtime

ACTOR = "/api/actors/{actorId}/training-data"


def make_app(engine: Engine, token: str | None) -> web.Application:
    """One Engine for every request (it is thread-safe); `token` None means loopback only."""
    app = web.Application(
        middlewares=[json_errors, guard_middleware(token)],
        client_max_size=MAX_BODY,  # larger bodies → 413 before they are parsed
    )
    app[RUNTIME] = Runtime(engine)
    app.router.add_get("/api/actors", handlers.list_actors, allow_head=False)
    app.router.add_post(f"{ACTOR}/comprehensive-sync", handlers.comprehensive_sync)
    app.router.add_get(f"{ACTOR}/audit", handlers.audit, allow_head=False)
    app.router.add_get(f"{ACTOR}/sync-history", handlers.sync_history, allow_head=False)
    app.on_shutdown.append(_cancel_running_syncs)
    app.on_cleanup.append(_close)
    return app


async def _cancel_running_syncs(app: web.Application) -> None:
    """Ctrl-C on the server cancels running syncs cleanly, like cancel in the app."""
    app[RUNTIME].cancel_all()


async def _close(app: web.Application) -> None:
    app[RUNTIME].close()
