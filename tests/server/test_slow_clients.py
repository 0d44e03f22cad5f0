"""Clients that send a request head or body slowly, or never, cannot hold a connection
of `trainsync serve` open, with or without the token (issue 14 item 8)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3server import free_port
from tests.server.conftest import kill_group, start_process, subprocess_env, trainsync
from tests.silent_s3 import silent_endpoint

TOKEN = "s3cr3t-t0ken-for-slow-tests"
SYNC = "/api/actors/0042/training-data/comprehensive-sync"
# Far above the server's 1 s timeouts below; before, the server waited for ever.
PATIENCE = 15


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp_path: Path = tmp_path_factory.mktemp("slow")
    root = tmp_path / "root"
    (root / "data" / "actors").mkdir(parents=True)
    port = free_port()
    env = subprocess_env(
        tmp_path,
        TRAINSYNC_API_TOKEN=TOKEN,
        TRAINSYNC_HEADER_TIMEOUT="1",
        TRAINSYNC_BODY_TIMEOUT="1",
    )
    with silent_endpoint() as silent:  # never reached: nothing here gets past the body
        flags = ["--root", str(root), "--bucket", "no-such-bucket", "--endpoint-url", silent.url]
        proc, _banner = start_process(trainsync("serve", "--port", str(port), *flags), env)
        try:
            yield port
        finally:
            kill_group(proc.pid)
            proc.communicate()


def send(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    sock.sendall(data)
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection (raises on PATIENCE)."""
    received = b""
    with sock:
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_request_head_that_never_ends_is_closed_at_the_header_timeout(port: int) -> None:
    sock = send(port, b"GET /api/actors?audit=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert until_closed(sock) == b""


def test_an_idle_connection_is_closed_at_the_header_timeout(port: int) -> None:
    assert until_closed(send(port, b"")) == b""


def test_a_body_that_never_arrives_is_a_408_and_the_connection_closes(port: int) -> None:
    head = (
        f"POST {SYNC} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Length: 1000\r\n\r\n{"
    )
    answer = until_closed(send(port, head.encode()))
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"request body not received within 1 s (body_timeout)" in answer


def test_without_the_token_the_body_is_not_waited_for(port: int) -> None:
    head = f"POST {SYNC} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
    sock = send(port, head.encode())
    first = sock.recv(65536)  # the 401 comes before any of the 1000 bytes were sent
    assert first.startswith(b"HTTP/1.1 401 "), first
    until_closed(sock)


def test_the_timeouts_are_settings(tmp_path: Path) -> None:
    (tmp_path / "trainsync.toml").write_text("header_timeout = 2\nbody_timeout = 3\n")
    from trainsync_tui.engine.config import load_settings

    settings = load_settings({"root": str(tmp_path)}, {})
    assert (settings.header_timeout, settings.body_timeout) == (2.0, 3.0)
