"""A loopback HTTP proxy between trainsync and nanio that counts the upload bytes it forwards
and, while its gate is set, holds every upload body past a mark (W9).

The bench needs two facts it must not take from trainsync's own report: when the client
has put 70 % of a file into S3 (to kill it there) and how many bytes the rerun sends. Both
are counted here, on the wire. The shared loopback proxy reads requests whole before they
are forwarded, so a body cut by the kill never reaches the server as a short part.
"""

from __future__ import annotations

import http.client
import socket
import threading
from typing import ClassVar
from urllib.parse import unquote

from trainsync_tui.bench.loopback_proxy import LoopbackProxy, Request, forward, reset, send


def _path(target: str) -> str:
    return unquote(target.split("?", 1)[0])


class PartGate(LoopbackProxy):
    """Forwards to 127.0.0.1:`upstream_port`; counts the bodies PUT to one object (its
    PutObject or UploadParts; the lease and other objects are not counted).

    With `hold_after` set, a PUT body that would take the bytes admitted past it is held
    (never forwarded) and `reached` is set; the ones admitted before still go through, and
    `settled()` tells when the server has answered all of them.
    """

    name: ClassVar[str] = "part-gate"
    upstream_timeout: ClassVar[float] = 300.0

    def __init__(self, upstream_port: int, bucket: str, key: str, hold_after: int | None) -> None:
        self.path = f"/{bucket}/{key}"
        self.hold_after = hold_after
        self.admitted = 0  # body bytes let through to the server
        self.answered = 0  # of those, bytes the server has answered 2xx for
        self.largest = 0  # the biggest body forwarded: the client's part size
        self.reached = threading.Event()
        self._released = threading.Event()
        self._changed = threading.Condition()
        super().__init__(upstream_port)

    def stop(self) -> None:
        self.release()  # wakes the threads holding a body, before their clients are reset
        super().stop()

    def hang_up(self, client: socket.socket) -> None:
        reset(client)  # a client still waiting on a held body sees a reset at once

    def release(self) -> None:
        """Drop what is held (the client is gone) and forward everything from now on."""
        with self._changed:
            self.hold_after = None
        self._released.set()

    def settled(self, timeout: float) -> bool:
        """Wait until the server has answered every body admitted; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.answered >= self.admitted, timeout)

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        size = len(request.body)
        counted = request.method == "PUT" and _path(request.target) == self.path and size > 0
        if counted:
            with self._changed:
                limit = self.hold_after
                held = limit is not None and (self.reached.is_set() or self.admitted + size > limit)
                if held:
                    self.reached.set()
                else:
                    self.admitted += size
                    self.largest = max(self.largest, size)
            if held:
                self._released.wait()
                return False  # never forwarded: the part is not in S3
        reply = forward(upstream, request)
        if counted:
            with self._changed:
                # Counted as answered even on an error, so settled() cannot hang on it; the
                # bench reads what S3 holds from S3 itself.
                self.answered += size
                self._changed.notify_all()
        send(client, request, reply)
        return True
