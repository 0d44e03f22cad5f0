"""Who may call `trainsync serve` and `trainsync web`: loopback by default, else a token."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from trainsync_tui.engine.errors import ConfigError
from trainsync_tui.server.errors import ApiError

TOKEN_ENV = "TRAINSYNC_API_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; anything else is reachable from elsewhere."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None, command: str = "serve") -> str | None:
    """The token to require (flag beats variable); refuse a non-loopback bind without one."""
    token = token if token is not None else os.environ.get(TOKEN_ENV)
    if token is not None and not token.strip():
        raise ConfigError(f"the API token is empty: pass --token or set {TOKEN_ENV} to a secret")
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a token: anyone who can reach it could "
            f"sync and delete data; pass --token or set {TOKEN_ENV} "
            f"(or keep the default 127.0.0.1 and use ssh -L) [trainsync {command}]"
        )
    return token


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so the answer time says nothing about the token."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def cross_origin(request: web.Request) -> str | None:
    """Why the request looks sent by a page from another site (CSRF, WebSocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None  # curl, scripts, schedulers: not a browser page
    if origin == "null" or urlsplit(origin).netloc != request.headers.get("Host", ""):
        return f"cross-origin request from {origin} refused"
    return None


def foreign_host(request: web.Request) -> str | None:
    """Why the Host header is not a loopback name (DNS rebinding reaches loopback that way)."""
    host = request.headers.get("Host", "")
    if host and not is_loopback(_host_name(host)):
        return f"host {host!r} is not a loopback name"
    return None


def foreign_origin(request: web.Request) -> str | None:
    """Without a token the only protection of a loopback server is that nothing else can
    reach it; a page in the user's browser can, so refuse what such a page would send."""
    return foreign_host(request) or cross_origin(request)


def guard_middleware(
    token: str | None,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """The API's check: a bearer token on every request once set, else loopback-only callers."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None:
            problem = foreign_origin(request)
            if problem:
                raise ApiError(403, f"{problem}; set a token (--token) to call from elsewhere")
        elif not token_matches(bearer(request), token):
            raise ApiError(
                401,
                "missing or wrong token: send the header 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await handler(request)

    return guard
