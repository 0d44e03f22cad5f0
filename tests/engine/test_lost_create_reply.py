"""A CreateMultipartUpload whose answer is lost (the server made the upload, the reply never
came) is retried by botocore and makes a second upload: the first would stay in the bucket,
never resumed, never aborted (found by the soak's ~5 % faults)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from trainsync_tui.engine.facade import Engine, SyncOptions

MiB = 1024 * 1024
BIG = hashlib.sha256(b"twin").digest() * (12 * MiB // 32)


def first_create(request: Request, seen: list[int]) -> bool:
    """The first CreateMultipartUpload only: forwarded, then its reply lost."""
    if request.method == "POST" and request.target.endswith("?uploads"):
        seen.append(1)
        return len(seen) == 1
    return False


@pytest.mark.parametrize("also", [None, b"x" * 4096], ids=["big file", "big and small files"])
def test_a_lost_create_reply_leaves_no_upload_behind(
    world: World, s3_server: S3Server, also: bytes | None
) -> None:
    world.put_local(ACTOR, "big.bin", BIG)
    if also is not None:
        world.put_local(ACTOR, "small.bin", also)
    lost: list[int] = []
    with FaultProxy(
        s3_server.port, {"reset_after": 1.0}, applies=lambda r: first_create(r, lost)
    ) as proxy:
        settings = dataclasses.replace(
            world.settings,
            endpoint_url=proxy.url,
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
        )
        eng = Engine(settings)
        try:
            report = eng.sync(eng.actor(ACTOR), SyncOptions())
        finally:
            eng.close()
        creates = [t for m, t in proxy.log if m == "POST" and t.endswith("?uploads")]

    assert proxy.counts["reset_after"] == 1 and len(creates) == 2  # lost once, retried
    assert report.errors == [] and report.counts.uploaded == (1 if also is None else 2)
    assert world.read_s3(ACTOR, "big.bin") == BIG
    assert world.manifest_md5s(ACTOR)["big.bin"] == md5(BIG)
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
