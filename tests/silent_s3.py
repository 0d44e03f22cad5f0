"""Loopback endpoints that never answer: one accepts connections and reads nothing (a hung
S3 server), one never completes a connection (a host behind a dropping firewall)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path


class SilentEndpoint:
    """Accepts every connection, reads nothing, answers nothing; counts the accepts."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._accepted: list[socket.socket] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._accept, name="silent-s3", daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            with self._changed:
                self._accepted.append(conn)  # kept open: the client waits for an answer
                self._changed.notify_all()

    @property
    def accepted(self) -> int:
        with self._changed:
            return len(self._accepted)

    def wait_for_connections(self, n: int, timeout: float = 30.0) -> bool:
        """True once `n` connections have been accepted in all."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._accepted) >= n, timeout)

    def start(self) -> SilentEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        # shutdown() wakes the accept() blocked in the thread; close() alone does not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)
        with self._changed:
            for conn in self._accepted:
                conn.close()


@contextlib.contextmanager
def silent_endpoint() -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


class DroppingEndpoint:
    """A port whose SYNs go unanswered, as behind a firewall that drops packets: a listener
    with a full accept queue (backlog 0, one connection in it) that never accepts."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=0)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._filling: list[socket.socket] = []
        while True:  # Linux queues backlog + 1 connections, then drops SYNs
            sock = socket.socket()
            sock.settimeout(0.2)
            try:
                sock.connect(("127.0.0.1", self.port))
            except TimeoutError:
                sock.close()
                break
            self._filling.append(sock)

    def connecting(self) -> int:
        """How many sockets wait in SYN_SENT for this port (from /proc/net/tcp)."""
        count = 0
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "02" and int(fields[2].split(":")[1], 16) == self.port:
                count += 1
        return count

    def close(self) -> None:
        for sock in self._filling:
            sock.close()
        self._listener.close()
