"""A loopback HTTP proxy between trainsync and nanio that streams the GET replies of one
object and counts their body bytes as it sends them (W11).

The full-speed resume figure needs two facts it must not take from trainsync's own report:
when 60 % of the file has crossed the wire to the client (to kill it there, from the very
thread that sent the byte past the mark) and how many bytes the rerun fetches. A reply is
sent as it is read from nanio, so "crossed" is what the client's socket was handed.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import unquote

from trainsync_tui.bench.loopback_proxy import (
    LoopbackProxy,
    Request,
    ask_upstream,
    head,
    reply_headers,
)

_CHUNK = 256 * 1024


class WireMeter(LoopbackProxy):
    """Forwards to 127.0.0.1:`upstream_port`; counts the body bytes of GETs of `/bucket/key`
    sent to clients (`sent`), and calls `at_mark` once when they reach `mark`."""

    name: ClassVar[str] = "wire-meter"

    def __init__(self, upstream_port: int, bucket: str, key: str) -> None:
        self.path = f"/{bucket}/{key}"
        self.sent = 0
        self.mark: int | None = None
        self.at_mark: Callable[[], None] = lambda: None
        self._lock = threading.Lock()
        super().__init__(upstream_port)

    def arm(self, mark: int | None, at_mark: Callable[[], None] = lambda: None) -> None:
        """Count from zero again; call `at_mark` when `mark` bytes have been sent."""
        with self._lock:
            self.sent, self.mark, self.at_mark = 0, mark, at_mark

    def _count(self, n: int) -> None:
        with self._lock:
            self.sent += n
            fire = self.mark is not None and self.sent >= self.mark
            if fire:
                self.mark = None
        if fire:
            self.at_mark()

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        if request.method != "GET" or unquote(request.target.split("?", 1)[0]) != self.path:
            return super().handle(client, upstream, request)
        response, _ = ask_upstream(upstream, request, read=False)
        client.sendall(head(response.status, response.reason, reply_headers(response)))
        while chunk := response.read(_CHUNK):
            client.sendall(chunk)
            self._count(len(chunk))
        return True
