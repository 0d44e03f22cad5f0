"""The matrix's servers: moto, nanio, s3rver (when installed) and moto behind an SSE-KMS proxy.

`target` is parametrised over all four; each server starts once per test session, and each
test gets a fresh bucket on it (`matrix`) with the environment's credentials set to the
server's, so the engine finds them through boto3's usual chain.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World
from tests.s3server import S3Server
from tests.servers.ssekms_proxy import SseKmsProxy
from tests.servers.targets import (
    ETAG_NOT_MD5,
    IGNORES_CONDITIONS,
    NANIO_PERCENT_KEY,
    PART_HEAD_IS_WHOLE,
    Target,
    s3rver,
    s3rver_command,
)

MiB = 1024 * 1024
SERVERS = ("moto", "nanio", "s3rver", "sse-kms")


@pytest.fixture(scope="session")
def moto_target(s3_server: S3Server) -> Target:
    return Target("moto", s3_server.url, "testing", "testing-secret-key")


@pytest.fixture(scope="session")
def nanio_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    from trainsync_tui.bench.server import ACCESS_KEY, SECRET_KEY, NanioServer

    server = NanioServer(tmp_path_factory.mktemp("nanio") / "data")
    server.start()
    try:
        yield Target(
            "nanio", server.url, ACCESS_KEY, SECRET_KEY,
            frozenset({NANIO_PERCENT_KEY, IGNORES_CONDITIONS, PART_HEAD_IS_WHOLE}),
        )  # fmt: skip
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3rver_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    command = s3rver_command()
    if command is None:
        pytest.skip(
            "s3rver is not installed (no s3rver on PATH, `npx --no-install s3rver` fails); "
            "`npm install -g s3rver@3.7.1` (about 10 s) adds it to the matrix"
        )
    with s3rver(command, tmp_path_factory.mktemp("s3rver") / "data") as target:
        yield target


@pytest.fixture(scope="session")
def sse_kms_target(s3_server: S3Server) -> Iterator[Target]:
    with SseKmsProxy(s3_server.port) as proxy:
        yield Target(
            "sse-kms", proxy.url, "testing", "testing-secret-key", frozenset({ETAG_NOT_MD5})
        )


@pytest.fixture(params=SERVERS)
def target(request: pytest.FixtureRequest) -> Target:
    return request.getfixturevalue(f"{request.param.replace('-', '_')}_target")


@dataclasses.dataclass
class Matrix:
    """One bucket on one server, and two roots (two training servers) that share it."""

    target: Target
    a: World
    b: World


def _world(base: Path, bucket: str, target: Target, client: object) -> World:
    root = base / "root"
    (root / "data" / "actors").mkdir(parents=True)
    world = World(root, bucket, target.url, client)
    # Small parts so two files are multipart; one cache per root, as on two machines.
    world.settings = dataclasses.replace(
        world.settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB
    )
    return world


@pytest.fixture
def matrix(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Matrix:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", target.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", target.secret_key)
    bucket = f"matrix-{uuid.uuid4().hex[:12]}"
    client = target.client()
    client.create_bucket(Bucket=bucket)
    return Matrix(
        target,
        _world(tmp_path / "a", bucket, target, client),
        _world(tmp_path / "b", bucket, target, client),
    )
