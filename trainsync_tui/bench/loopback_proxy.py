"""The one loopback HTTP proxy that the bench and the tests build on.

A `LoopbackListener` owns a listening socket on 127.0.0.1 (never another interface), the
accept loop and a clean stop. A `LoopbackProxy` adds the HTTP part: one thread per client,
keep-alive requests read whole, each forwarded to 127.0.0.1:`upstream_port` over a kept-alive
connection and the reply sent back. A subclass overrides `handle` (or `on_accept`, for a
listener that does not speak HTTP) and says only what it changes: faults, rewritten ETags,
a held upload body, silence.

Requests are read whole before they are forwarded, so a body cut short by a killed client
never reaches the server as a short object or part.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import socket
import struct
import threading
from dataclasses import dataclass
from typing import BinaryIO, ClassVar, NamedTuple, Self

# Headers about one hop, not the message: never forwarded either way.
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "expect", "transfer-encoding"}

_ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
)

Headers = list[tuple[str, str]]


@dataclass
class Request:
    method: str
    target: str
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of header `name` (lower case), or None."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Reply(NamedTuple):
    status: int
    reason: str
    headers: Headers
    body: bytes


@dataclass(eq=False)
class LoopbackListener:
    """A socket listening on 127.0.0.1 (a free port) with its accept loop in a thread.

    Each accepted client goes to `on_accept`; `stop` wakes the loop and closes every client
    still open, so no thread of a test or the bench outlives it.
    """

    name: ClassVar[str] = "loopback"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        self._clients: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name=self.name, daemon=True)

    def start(self) -> Self:
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
            self.hang_up(client)
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def on_accept(self, client: socket.socket) -> None:
        """Take a new client (it is in the set `stop` closes); by default, nothing more."""

    def track(self, sock: socket.socket) -> None:
        """Have `stop` close `sock` too (e.g. a subclass's own upstream connection)."""
        with self._lock:
            self._clients.add(sock)

    def hang_up(self, client: socket.socket) -> None:
        """Close a client's connection; a subclass may reset it instead."""
        close(client)

    def forget(self, client: socket.socket) -> None:
        """Hang up on a client and drop it from the set `stop` closes."""
        self.hang_up(client)
        with self._lock:
            self._clients.discard(client)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return  # stop() shut the socket down
            self.track(client)
            self.on_accept(client)


@dataclass(eq=False)
class LoopbackProxy(LoopbackListener):
    """Forwards each request to 127.0.0.1:`upstream_port`; `handle` is the hook."""

    upstream_port: int
    name: ClassVar[str] = "loopback-proxy"
    # Long enough for the slowest reply a test holds back or the bench's biggest part.
    upstream_timeout: ClassVar[float] = 120.0

    def on_accept(self, client: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        """Answer one request; False when the client connection is to be dropped."""
        send(client, request, forward(upstream, request))
        return True

    def _serve(self, client: socket.socket) -> None:
        upstream = http.client.HTTPConnection(
            "127.0.0.1", self.upstream_port, timeout=self.upstream_timeout
        )
        reader = client.makefile("rb")
        try:
            while not self._stopped.is_set():
                request = read_request(reader, client)
                if request is None or not self.handle(client, upstream, request):
                    return
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            upstream.close()
            reader.close()
            self.forget(client)


def read_request(reader: BinaryIO, client: socket.socket) -> Request | None:
    """The next whole request on a kept-alive connection, or None at its end (or when the
    client went away mid-body: a real network never delivers such a request, and forwarding
    what came would store a truncated object)."""
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: Headers = []
    while (raw := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
        key, _, value = raw.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    request = Request(method, target, headers, b"")
    if (request.header("expect") or "").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if (request.header("transfer-encoding") or "").lower() == "chunked":
        chunks = []
        while size := int(reader.readline().split(b";")[0].strip() or b"0", 16):
            chunk = reader.read(size)
            if len(chunk) < size:
                return None
            chunks.append(chunk)
            reader.readline()
        while reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # the trailer
        request.body = b"".join(chunks)
        return request
    length = int(request.header("content-length") or 0)
    request.body = reader.read(length)
    return request if len(request.body) == length else None


def ask_upstream(
    upstream: http.client.HTTPConnection, request: Request, *, read: bool = True
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send `request` upstream; its response and (with `read`) its whole body. Without
    `read`, the body is left to stream from the response."""
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
            return response, response.read() if read else b""
        except (OSError, http.client.HTTPException):
            upstream.close()  # the server closed a kept-alive connection: reconnect once
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def reply_headers(response: http.client.HTTPResponse) -> Headers:
    """A response's headers less the ones about one hop."""
    return [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS]


def forward(upstream: http.client.HTTPConnection, request: Request) -> Reply:
    """Send `request` upstream and read the whole reply, its Content-Length set to the body."""
    response, body = ask_upstream(upstream, request)
    headers = reply_headers(response)
    if request.method != "HEAD":
        headers = set_header(headers, "Content-Length", str(len(body)))
    return Reply(response.status, response.reason, headers, body)


def set_header(headers: Headers, name: str, value: str) -> Headers:
    """`headers` with `name` (any case) given exactly this one value. A proxy sets a header,
    never appends one: the upstream may send it too (moto 5.2.6 began sending Content-Range on
    a part HEAD), and a client joins repeated headers into one "a, b" value."""
    return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]


def head(status: int, reason: str, headers: Headers) -> bytes:
    """A response's status line and headers, ready to send before its body."""
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send(client: socket.socket, request: Request, reply: Reply) -> None:
    """Send `reply` to `request`: Content-Length set to the body's, but for a HEAD, which
    keeps the length it states and sends no body."""
    status, reason, headers, body = reply
    if request.method == "HEAD":
        body = b""
    else:
        headers = set_header(headers, "Content-Length", str(len(body)))
    client.sendall(head(status, reason, headers) + body)


def s3_error(status: int, reason: str, code: str, message: str, request_id: str) -> Reply:
    """An S3 error reply as a server that never saw the request sends it."""
    text = _ERROR_BODY.format(code=code, message=html.escape(message), request_id=request_id)
    body = text.encode()
    headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    return Reply(status, reason, headers, body)


def reset(client: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP reset at once, not an orderly end."""
    with contextlib.suppress(OSError):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        client.close()


def close(client: socket.socket) -> None:
    """An orderly end: shutdown first, so a thread blocked reading the socket wakes."""
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)
    client.close()
