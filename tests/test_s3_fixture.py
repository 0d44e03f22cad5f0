"""The loopback S3 refuses what real S3 refuses, so crash tests test trainsync, not moto."""

from __future__ import annotations

import base64
import hashlib
import socket

import pytest
from botocore.exceptions import ClientError

from tests.conftest import World
from tests.s3server import S3Server


def _raw_put(server: S3Server, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send a PUT by hand and hang up after `body` (which may be shorter than promised)."""
    lines = [f"PUT {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_body_cut_short_stores_nothing(world: World, s3_server: S3Server) -> None:
    key = f"/{world.bucket}/actors/a/training_data/cut.bin"
    answer = _raw_put(s3_server, key, {"Content-Length": "13888"}, b"")
    assert b"IncompleteBody" in answer
    with pytest.raises(ClientError):
        world.s3.head_object(Bucket=world.bucket, Key=key.split("/", 2)[2])


def test_a_wrong_content_md5_stores_nothing(world: World) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as refused:
        world.s3.put_object(Bucket=world.bucket, Key="k", Body=b"data", ContentMD5=wrong)
    assert refused.value.response["Error"]["Code"] == "BadDigest"
    assert world.s3_keys() == []


def test_the_fault_proxy_never_forwards_a_body_cut_by_a_dying_client(
    world: World, s3_server: S3Server
) -> None:
    from tests.reliability.faultproxy import FaultProxy

    with FaultProxy(s3_server.port, {}) as proxy:
        key = f"actors/a/training_data/cut-{proxy.port}.bin"
        lines = [
            f"PUT /{world.bucket}/{key} HTTP/1.1",
            f"Host: 127.0.0.1:{proxy.port}",
            "Content-Length: 13888",
        ]
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"only part")
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):  # until the proxy hangs up
                pass
    assert key not in world.s3_keys()
