"""The shared loopback proxy core: keep-alive forwarding, one Content-Length, a clean stop."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trainsync_tui.bench.loopback_proxy import LoopbackProxy


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = b"got " + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Content-Length", str(len(reply)))  # a careless server repeats it
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_requests_on_one_kept_alive_connection_are_forwarded_with_one_content_length(
    upstream: int,
) -> None:
    with LoopbackProxy(upstream) as proxy:
        assert proxy.url.startswith("http://127.0.0.1:")
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        try:
            for body in (b"one", b"two"):
                connection.request("PUT", "/bucket/key", body=body)
                response = connection.getresponse()
                assert response.read() == b"got " + body
                assert response.msg.get_all("Content-Length") == [str(len(b"got " + body))]
        finally:
            connection.close()


def test_stop_closes_the_clients_still_connected(upstream: int) -> None:
    proxy = LoopbackProxy(upstream).start()
    client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    try:
        client.sendall(b"PUT /bucket/key HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")  # served, and kept alive
        proxy.stop()
        assert client.recv(4096) == b""  # the proxy ended the connection
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
    finally:
        client.close()
