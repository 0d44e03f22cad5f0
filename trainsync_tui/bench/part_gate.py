"""A loopback HTTP proxy between trainsync and nanio that counts the upload bytes it forwards
and, while its gate is set, holds every upload body past a mark (W9).

The bench needs two facts it must not take from trainsync's own report: when the client
has put 70 % of a file into S3 (to kill it there) and how many bytes the rerun sends. Both
are counted here, on the wire. Requests are read whole before they are forwarded, so a body
cut by the kill never reaches the server as a short part.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
from collections.abc import Callable
from typing import BinaryIO
from urllib.parse import unquote

_HOP = {"connection", "keep-alive", "proxy-connection", "expect", "transfer-encoding"}


def _path(target: str) -> str:
    return unquote(target.split("?", 1)[0])


class PartGate:
    """Forwards to 127.0.0.1:`upstream_port`; counts the bodies PUT to one object (its
    PutObject or UploadParts; the lease and other objects are not counted).

    With `hold_after` set, a PUT body that would take the bytes admitted past it is held
    (never forwarded) and `reached` is set; the ones admitted before still go through, and
    `settled()` tells when the server has answered all of them.
    """

    def __init__(self, upstream_port: int, bucket: str, key: str, hold_after: int | None) -> None:
        self.upstream_port = upstream_port
        self.path = f"/{bucket}/{key}"
        self.hold_after = hold_after
        self.admitted = 0  # body bytes let through to the server
        self.answered = 0  # of those, bytes the server has answered 2xx for
        self.largest = 0  # the biggest body forwarded: the client's part size
        self.reached = threading.Event()
        self._released = threading.Event()
        self._changed = threading.Condition()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stopped = threading.Event()
        self._clients: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="part-gate", daemon=True)

    def __enter__(self) -> PartGate:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self.release()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._sock.close()
        with self._changed:
            clients = list(self._clients)
        for client in clients:
            _reset(client)
        self._thread.join(5)

    def release(self) -> None:
        """Drop what is held (the client is gone) and forward everything from now on."""
        with self._changed:
            self.hold_after = None
        self._released.set()

    def settled(self, timeout: float) -> bool:
        """Wait until the server has answered every body admitted; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.answered >= self.admitted, timeout)

    # -- serving ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with self._changed:
                self._clients.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=300)
        reader = client.makefile("rb")
        try:
            while not self._stopped.is_set():
                request = _read(reader, client.sendall)
                if request is None or not self._handle(client, upstream, *request):
                    return
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            upstream.close()
            reader.close()
            _reset(client)
            with self._changed:
                self._clients.discard(client)

    def _handle(
        self,
        client: socket.socket,
        upstream: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> bool:
        counted = method == "PUT" and _path(target) == self.path and bool(body)
        if counted:
            with self._changed:
                limit = self.hold_after
                held = limit is not None and (
                    self.reached.is_set() or self.admitted + len(body) > limit
                )
                if held:
                    self.reached.set()
                else:
                    self.admitted += len(body)
                    self.largest = max(self.largest, len(body))
            if held:
                self._released.wait()
                return False  # never forwarded: the part is not in S3
        status, reason, reply, payload = _forward(upstream, method, target, headers, body)
        if counted:
            with self._changed:
                # Counted as answered even on an error, so settled() cannot hang on it; the
                # bench reads what S3 holds from S3 itself.
                self.answered += len(body)
                self._changed.notify_all()
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in reply)]
        client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        return True


Request = tuple[str, str, list[tuple[str, str]], bytes]


def _read(reader: BinaryIO, send: Callable[[bytes], None]) -> Request | None:
    """One whole request (botocore sends Content-Length bodies), or None at its end."""
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while (raw := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
        key, _, value = raw.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    found = {k.lower(): v for k, v in headers}
    if found.get("transfer-encoding", "").lower() == "chunked":
        raise ValueError("chunked request bodies are not expected from botocore here")
    if found.get("expect", "").lower() == "100-continue":
        send(b"HTTP/1.1 100 Continue\r\n\r\n")
    length = int(found.get("content-length") or 0)
    body = reader.read(length)
    if len(body) < length:
        return None  # the client died mid-body: a truncated part must never be forwarded
    return method, target, headers, body


def _forward(
    upstream: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    for attempt in (1, 2):
        try:
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for key, value in headers:
                if key.lower() not in _HOP and key.lower() != "content-length":
                    upstream.putheader(key, value)
            if body or method in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            payload = response.read()
            break
        except (OSError, http.client.HTTPException):
            upstream.close()  # the server closed a kept-alive connection: once more, anew
            if attempt == 2:
                raise
    reply = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
    if method != "HEAD":
        reply = [(k, v) for k, v in reply if k.lower() != "content-length"]
        reply.append(("Content-Length", str(len(payload))))
    return response.status, response.reason, reply, payload


def _reset(client: socket.socket) -> None:
    """Close with SO_LINGER 0, so a client still waiting sees a reset at once."""
    with contextlib.suppress(OSError):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        client.close()
