"""`trainsync web`: the Textual app in a browser via textual-serve, behind the same token rule."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import shlex
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from trainsync_tui.engine.config import Settings

COOKIE = "trainsync_web"
_PLAIN_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")
_FLAG_NAMES = {
    "root": "--root",
    "bucket": "--bucket",
    "prefix": "--prefix",
    "endpoint_url": "--endpoint-url",
    "region": "--region",
    "profile": "--profile",
    "concurrency": "--concurrency",
}
SHUTDOWN_SECONDS = 5.0  # open browser tabs hold websockets; their apps are told to quit


def tui_command(flags: Mapping[str, Any]) -> str:
    """The shell command textual-serve runs per browser tab: this Python, `trainsync tui`."""
    args = [sys.executable, "-m", "trainsync_tui", "tui"]
    for name, option in _FLAG_NAMES.items():
        value = flags.get(name)
        if value is not None:
            args += [option, str(value)]
    return shlex.join(args)  # textual-serve starts it with create_subprocess_shell


def cookie_value(token: str) -> str:
    """What the browser keeps: derived from the token, so the cookie never holds the token."""
    return hmac.new(token.encode("utf-8"), b"trainsync-web-session", hashlib.sha256).hexdigest()


def run_web(
    settings: Settings, host: str, port: int, token: str | None, flags: Mapping[str, Any]
) -> int:
    """Serve the app until Ctrl-C; loopback by default, else only with a token."""
    from trainsync_tui.server import require_serve_extra

    require_serve_extra("web", ("aiohttp", "textual_serve"))
    from trainsync_tui.server.auth import resolve_token
    from trainsync_tui.server.listen import serve_app

    token = resolve_token(host, token, "web")
    server = make_web_server(tui_command(flags), host, port, token)
    how = "open it once as <url>/?token=<token>" if token else "loopback only; ssh -L to reach it"

    def banner(url: str) -> str:
        return f"trainsync web: the app on {url}/ ({how}); root {settings.root}. Ctrl-C stops."

    async def main() -> None:
        app = await server.make_app()
        await serve_app(
            app, host, port, name="web", banner=banner, shutdown_seconds=SHUTDOWN_SECONDS
        )

    asyncio.run(main())
    return 0


def make_web_server(command: str, host: str, port: int, token: str | None) -> Any:
    """A textual-serve Server that checks who is asking before it starts an app."""
    from aiohttp import web
    from textual_serve.server import Server

    from trainsync_tui.server.auth import (
        bearer,
        cross_origin,
        foreign_host,
        token_matches,
    )

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    def refuse(status: int, text: str) -> web.Response:
        return web.Response(status=status, text=f"trainsync web: {text}\n")

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Every tab's websocket starts an app with the user's credentials: a page from
        # another site must never open one (textual-serve itself does not check).
        problem = cross_origin(request)
        if token is None:
            problem = problem or foreign_host(request)
        if problem:
            return refuse(403, problem)
        if token is None:
            return await handler(request)
        if token_matches(bearer(request), token) or token_matches(
            request.cookies.get(COOKIE), cookie_value(token)
        ):
            return await handler(request)
        if token_matches(request.query.get("token"), token):
            # A browser cannot send a header on first load: take ?token= once, keep a
            # cookie, and drop the token from the address bar and history.
            query = {k: v for k, v in request.query.items() if k != "token"}
            found = web.HTTPSeeOther(request.rel_url.with_query(query).human_repr())
            found.set_cookie(COOKIE, cookie_value(token), httponly=True, samesite="Strict")
            raise found
        return refuse(401, "open this page once as /?token=<token> (or send a bearer token)")

    class TrainsyncWebServer(Server):  # type: ignore[misc]
        async def make_app(self) -> web.Application:
            self.bind_url = self.public_url
            app = await self._make_app()
            app.middlewares.insert(0, guard)
            return app

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # The page tells the browser where the websocket is: use the address the
            # browser used (an ssh -L port, a host name), not the bind address. The
            # template does not escape, so only a plain host[:port] is taken.
            plain = _PLAIN_HOST.fullmatch(request.host)
            self.public_url = f"{request.scheme}://{request.host}" if plain else self.bind_url
            return await super().handle_index(request)

        async def on_startup(self, app: web.Application) -> None:
            """serve_app prints our own banner; textual-serve's logo would print the command."""

    return TrainsyncWebServer(command, host=host, port=port, title="trainsync")
