"""A fault-injecting HTTP proxy on 127.0.0.1 between boto3 and the loopback S3 server.

boto3 talks to it as its endpoint (path-style addressing, plain HTTP/1.1 with keep-alive).
Each request draws, from a seeded generator, at most one fault:

- ``error500``   answer 500 InternalError without forwarding
- ``slowdown``   answer 503 SlowDown without forwarding
- ``reset``      reset the connection before any response (request not forwarded)
- ``cut``        forward, then send the headers with the full Content-Length and half the
                 body, and close (only responses with a body of 2+ bytes; a GET of an object
                 then fails mid-stream)
- ``stall``      forward, then hold the response for ``stall_seconds`` (shorter than the
                 client's 60 s read timeout, so it slows and never fails)
- ``reset_after`` forward (the server applies the request), then reset: the reply is lost

Counts of every fault injected, per kind, are kept in ``counts``.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

KINDS = ("error500", "slowdown", "reset", "cut", "stall", "reset_after")
_ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>{message}</Message><RequestId>faultproxy</RequestId></Error>"
)
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "expect", "transfer-encoding"}


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass
class FaultProxy:
    """A threaded proxy; `rates` maps a kind to its probability per request (sum ≤ 1)."""

    upstream_port: int
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    stall_seconds: float = 0.5
    # Which requests may be faulted (e.g. only GETs); None means all.
    applies: Callable[[Request], bool] | None = None
    # The text of injected error bodies; a test makes a careless server that echoes the
    # request (headers, signature, token) with it.
    message: Callable[[Request], str] = lambda _: "injected by faultproxy"
    counts: Counter[str] = field(default_factory=Counter)
    # (method, target) of every request, in arrival order: lets a test see the phase a
    # client process is in from outside it.
    log: list[tuple[str, str]] = field(default_factory=list)
    # The headers of each request in `log`, lower-cased names: what the client signed and sent.
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        self._clients: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)

    # -- control -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        # close() alone does not wake a thread blocked in accept(); shutdown() does.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            _close(client)
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def set_rates(self, rates: dict[str, float]) -> None:
        with self._lock:
            self.rates = dict(rates)

    @property
    def injected(self) -> int:
        """Faults that make a request fail (stalls only slow one down)."""
        return sum(n for kind, n in self.counts.items() if kind not in ("stall", "requests"))

    def _draw(self, request: Request) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            self.log.append((request.method, request.target))
            self.headers.append({k.lower(): v for k, v in request.headers})
        # Outside the lock: a test's `applies` may hold one request while others go through.
        if self.applies is not None and not self.applies(request):
            return None
        with self._lock:
            roll = self._rng.random()
            for kind in KINDS:
                roll -= self.rates.get(kind, 0.0)
                if roll < 0:
                    return kind
        return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    # -- serving -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._clients.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        reader = client.makefile("rb")
        try:
            while not self._stopped.is_set():
                request = _read_request(reader, client)
                if request is None:
                    return
                if not self._handle(client, upstream, request):
                    return
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            upstream.close()
            reader.close()
            _close(client)
            with self._lock:
                self._clients.discard(client)

    def _handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        """Answer one request; False when the client connection is to be dropped."""
        kind = self._draw(request)
        if kind in ("error500", "slowdown"):
            self._count(kind)
            code, status, reason = (
                ("InternalError", 500, "Internal Server Error")
                if kind == "error500"
                else ("SlowDown", 503, "Slow Down")
            )
            text = html.escape(self.message(request))
            body = _ERROR_BODY.format(code=code, message=text).encode()
            head = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
            payload = b"" if request.method == "HEAD" else body
            client.sendall(_head(status, reason, head) + payload)
            return True
        if kind == "reset":
            self._count(kind)
            _reset(client)
            return False
        status, reason, headers, body = _forward(upstream, request)
        if kind == "reset_after":
            self._count(kind)
            _reset(client)
            return False
        if kind == "stall":
            self._count(kind)
            self._stopped.wait(self.stall_seconds)
        if kind == "cut" and request.method != "HEAD" and len(body) >= 2:
            self._count(kind)
            client.sendall(_head(status, reason, headers) + body[: len(body) // 2])
            _close(client)
            return False
        client.sendall(_head(status, reason, headers) + body)
        return True


def _read_request(reader: BinaryIO, client: socket.socket) -> Request | None:
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = reader.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        key, _, value = raw.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    request = Request(method, target, headers, b"")
    if (request.header("expect") or "").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if (request.header("transfer-encoding") or "").lower() == "chunked":
        chunks = []
        while True:
            size = int(reader.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunk = reader.read(size)
            if len(chunk) < size:
                return None  # cut mid-chunk: as above, never forward a truncated body
            chunks.append(chunk)
            reader.readline()
        request.body = b"".join(chunks)
    else:
        length = int(request.header("content-length") or 0)
        request.body = reader.read(length)
        if len(request.body) < length:
            # The client went away mid-body (a kill -9): a real network never delivers such a
            # request, and forwarding what came would store a truncated object.
            return None
    return request


def _forward(
    upstream: http.client.HTTPConnection, request: Request
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    for attempt in (1, 2):
        try:
            upstream.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for key, value in request.headers:
                if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                    upstream.putheader(key, value)
            if request.body or request.method in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(len(request.body)))
            upstream.endheaders(request.body or None)
            response = upstream.getresponse()
            body = response.read()
            break
        except (OSError, http.client.HTTPException):
            upstream.close()  # the server closed a kept-alive connection: reconnect once
            if attempt == 2:
                raise
    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS]
    if request.method != "HEAD":
        headers = set_header(headers, "Content-Length", str(len(body)))
    return response.status, response.reason, headers, body


def set_header(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """`headers` with `name` (any case) given exactly this one value. A proxy sets a header,
    never appends one: the upstream may send it too (moto 5.2.6 began sending Content-Range on
    a part HEAD), and a client joins repeated headers into one "a, b" value."""
    return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]


def _head(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(client: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP reset, not an orderly end."""
    with contextlib.suppress(OSError):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def _close(client: socket.socket) -> None:
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)
    client.close()
