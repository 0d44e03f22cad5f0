"""Loopback endpoints that never answer: one accepts connections and reads nothing (a hung
S3 server), one never completes a connection (a host behind a dropping firewall)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import ClassVar

from trainsync_tui.bench.loopback_proxy import LoopbackListener


class SilentEndpoint(LoopbackListener):
    """Accepts every connection, reads nothing, answers nothing; counts the accepts. The
    connections stay open (the client waits for an answer) until `stop`."""

    name: ClassVar[str] = "silent-s3"

    def __init__(self) -> None:
        self._accepts = 0
        self._changed = threading.Condition()
        super().__init__()

    def on_accept(self, client: socket.socket) -> None:
        with self._changed:
            self._accepts += 1
            self._changed.notify_all()

    @property
    def accepted(self) -> int:
        with self._changed:
            return self._accepts

    def wait_for_connections(self, n: int, timeout: float = 30.0) -> bool:
        """True once `n` connections have been accepted in all."""
        with self._changed:
            return self._changed.wait_for(lambda: self._accepts >= n, timeout)


def silent_endpoint() -> SilentEndpoint:
    """A silent endpoint for a `with`: started at its start, stopped at its end."""
    return SilentEndpoint()


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
