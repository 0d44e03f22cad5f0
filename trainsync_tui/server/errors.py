"""JSON answers; every failure becomes {"error": "<one line>"} with its status, no traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from trainsync_tui.engine.errors import (
    ActorNameError,
    CancelledSync,
    ConfigError,
    LockBusyError,
    ManifestError,
    TrainsyncError,
)
from trainsync_tui.server.accesslog import escaped

log = logging.getLogger("trainsync.serve")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own answers (route not found, wrong method, body too large) keep their status;
# these are the one-line messages we give instead of its HTML/plain-text bodies.
_HTTP_MESSAGES = {
    404: "no such endpoint: see docs/API.md for the routes",
    405: "method not allowed",
    413: "request body over 64 KiB",
}


class ApiError(Exception):
    """A request the API refuses: the status and a one-line message for the client."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = one_line(message)
        self.headers = dict(headers or {})


def one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:1000]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON body ending in a newline, so `curl` leaves the shell prompt on its own line."""
    return web.json_response(
        data, status=status, headers=headers, dumps=lambda d: json.dumps(d) + "\n"
    )


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"error": one_line(message)}, status=status, headers=headers)


def status_for(exc: TrainsyncError) -> int:
    """The HTTP status of an engine error (docs/API.md lists them)."""
    if isinstance(exc, ActorNameError):
        return 400
    if isinstance(exc, LockBusyError):
        return 409
    if isinstance(exc, ManifestError):
        return 422
    if isinstance(exc, CancelledSync):
        return 503  # only when the server stops before a sync began
    if isinstance(exc, ConfigError):
        return 503  # the server's settings: no bucket, bad credentials, endpoint unreachable
    return 502  # S3 answered with something that stops the run


def _http_exception(exc: web.HTTPException) -> web.Response:
    message = _HTTP_MESSAGES.get(exc.status) or exc.reason or "request refused"
    if exc.status == 405 and isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        message = f"method {exc.method} not allowed here; use {allowed}"
    skip = {"content-type", "content-length"}
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in skip}
    return error_response(exc.status, message, headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware: whatever goes wrong, the client gets one JSON line."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are answers, not errors
        return _http_exception(exc)
    except TrainsyncError as exc:
        return error_response(status_for(exc), exc.message)
    except json.JSONDecodeError as exc:
        return error_response(400, f"request body is not valid JSON ({exc.msg})")
    except OSError as exc:
        log.error("%s %s: %s", request.method, escaped(request.path), exc)
        where = f"{exc.filename}: " if exc.filename else ""
        return error_response(500, f"{where}{exc.strerror or type(exc).__name__}")
    except Exception as exc:
        # A bug: one line to the client and the log; the type says where to look.
        log.error(
            "%s %s: unexpected %s: %s",
            request.method,
            escaped(request.path),
            type(exc).__name__,
            one_line(str(exc)),
        )
        return error_response(500, f"internal error ({type(exc).__name__}); see the server log")
