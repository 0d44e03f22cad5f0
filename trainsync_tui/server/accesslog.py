"""One log line per request, with nothing secret in it (no headers, no token in a query)."""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SECRET_PARAMS = frozenset({"token", "access_token"})


def redacted_path(request: BaseRequest) -> str:
    """The path and query, with secret query values replaced (browsers put ?token= there)."""
    if not request.query_string:
        return request.path
    parts = []
    for key, value in request.query.items():
        parts.append(f"{key}={'***' if key.lower() in SECRET_PARAMS else value}")
    return f"{request.path}?{'&'.join(parts)}"


class RedactingAccessLogger(AbstractAccessLogger):
    """`<client> "<METHOD> <path>" <status> <seconds>s`; Authorization is never logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            redacted_path(request),
            response.status,
            time,
        )


def setup_logging(name: str) -> logging.Logger:
    """Plain lines on stderr for the access log and the server's own messages."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
