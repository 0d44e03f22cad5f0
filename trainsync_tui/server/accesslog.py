"""One log line per request, with nothing secret in it (no headers, no token in a query)."""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SECRET_PARAMS = frozenset({"token", "access_token"})
# Control and other non-printing characters (NUL, CR, LF, ESC, DEL, C1, line and paragraph
# separators, bidi overrides), the quote around the path and the escape character itself.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_UNSAFE = re.compile(f'{_CONTROL.pattern[:-1]}"%]')


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode())


def escaped(text: str) -> str:
    """`text` with every character that could end, fake or recolour a log line written as
    %XX of its UTF-8 bytes (%0A, %00, %22…); `%` itself too, so unescaping is exact."""
    return _UNSAFE.sub(_percent, text)


def redacted_path(request: BaseRequest) -> str:
    """The path and query, with secret query values replaced (browsers put ?token= there),
    escaped: aiohttp decodes %0a in the path into a line break that would forge a line."""
    if not request.query_string:
        return escaped(request.path)
    parts = []
    for key, value in request.query.items():
        parts.append(f"{key}={'***' if key.lower() in SECRET_PARAMS else value}")
    return escaped(f"{request.path}?{'&'.join(parts)}")


class RedactingAccessLogger(AbstractAccessLogger):
    """`<client> "<METHOD> <path>" <status> <seconds>s`; Authorization is never logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            escaped(str(request.remote)),
            escaped(request.method),
            redacted_path(request),
            response.status,
            time,
        )


class OneLineFormatter(logging.Formatter):
    """`HH:MM:SS message`, one line whatever the message holds: control characters are
    escaped and no traceback follows (aiohttp logs one with every malformed request)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(
            {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        )
        return _CONTROL.sub(_percent, super().format(record))


def setup_logging(name: str) -> logging.Logger:
    """Plain lines on stderr for the access log and the server's own messages."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
