"""nanio on loopback (as the bench starts it) and a World on it: a server that ignores
`HEAD ?partNumber=1` and answers with the whole object."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World
from trainsync_tui.bench.server import NanioServer

MiB = 1024 * 1024


@pytest.fixture(scope="module", name="nanio")
def nanio_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NanioServer]:
    server = NanioServer(tmp_path_factory.mktemp("nanio") / "data")
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"nanio cannot start here ({exc})")
    yield server
    server.stop()


@pytest.fixture(name="nanio_world")
def nanio_world_fixture(
    nanio: NanioServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> World:
    for key, value in nanio.client_env().items():
        monkeypatch.setenv(key, value)
    bucket = f"nanio-{uuid.uuid4().hex[:12]}"
    nanio.create_bucket(bucket)
    root = tmp_path / "root"
    (root / "data" / "actors").mkdir(parents=True)
    return World(root, bucket, nanio.url, nanio.client())


def put_foreign(world: World, actor: str, path: str, data: bytes, part_size: int) -> None:
    """Upload as boto3 (aws s3 cp) does with `part_size` parts: no MD5 metadata."""
    from boto3.s3.transfer import TransferConfig

    source = world.root.parent / f"foreign-{uuid.uuid4().hex}"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)
    world.s3.upload_file(str(source), world.bucket, world.key(actor, path), Config=config)
    source.unlink()
