"""S3 whose ETags are not MD5s (AWS SSE-KMS / SSE-C, simulated by tests/sseproxy.py) and
servers that refuse conditions: uploads are verified by S3's own Content-MD5 checks and
read back by their MD5 metadata; nothing good is deleted (issue 15 items 1, 4, 5)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.s3server import S3Server
from tests.sseproxy import SseProxy
from trainsync_tui.engine.events import Event, Message
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

ACTOR = "0015_sse_kms"
MiB = 1024 * 1024
FILES = {
    "small.txt": b"small file\n" * 100,
    "sub/medium.bin": hashlib.sha256(b"m").digest() * 40_000,
    "big.bin": hashlib.sha256(b"b").digest() * (12 * MiB // 32),
}


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[SseProxy]:
    with SseProxy(s3_server.port) as running:
        yield running


def engine(world: World, url: str, root: Path | None = None) -> Engine:
    root = root or world.root
    (root / "data" / "actors").mkdir(parents=True, exist_ok=True)
    settings = dataclasses.replace(
        world.settings,
        root=root,
        endpoint_url=url,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        cache_dir=root / "cache",
    )
    return Engine(settings)


def sync(eng: Engine, events: list[Event] | None = None, **options: object) -> SyncReport:
    sink = events.append if events is not None else (lambda _: None)
    try:
        return eng.sync(eng.actor(ACTOR), SyncOptions(**options), sink=sink)  # type: ignore[arg-type]
    finally:
        eng.close()


def deletes(proxy: SseProxy) -> list[str]:
    """The DELETEs of data objects (each run releases its S3 lease with one too)."""
    return [
        target
        for method, target in proxy.log
        if method == "DELETE" and not target.split("?")[0].endswith(LEASE_SUFFIX)
    ]


def test_sse_kms_uploads_audit_and_downloads_verify_by_metadata(
    world: World, proxy: SseProxy
) -> None:
    for path, data in FILES.items():
        world.put_local(ACTOR, path, data)
    first = sync(engine(world, proxy.url))
    assert first.errors == [] and first.counts.uploaded == 3
    # What S3 holds is right, with both MD5 forms in metadata (rclone reads md5chksum).
    for path, data in FILES.items():
        head = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, path))
        assert head["Metadata"]["md5"] == md5(data)
        assert (
            head["Metadata"]["md5chksum"] == base64.b64encode(hashlib.md5(data).digest()).decode()
        )
        assert world.read_s3(ACTOR, path) == data
    # Seen through the proxy, no ETag is an MD5, and every object says aws:kms.
    seen = engine(world, proxy.url).client.head_object(
        Bucket=world.bucket, Key=world.key(ACTOR, "small.txt")
    )
    assert seen["ServerSideEncryption"] == "aws:kms" and md5(FILES["small.txt"]) not in seen["ETag"]

    # A second audit (on a machine with no cache) finds everything in sync.
    again = sync(engine(world, proxy.url, world.root), dry_run=True)
    assert again.changed == 0 and again.conflicts == [] and again.errors == []
    # A second root pulls every file, verified by the metadata MD5.
    other = world.root.parent / "other"
    pulled = sync(engine(world, proxy.url, other))
    assert pulled.errors == [] and pulled.counts.downloaded == 3
    for path, data in FILES.items():
        assert (other / "data/actors" / ACTOR / "training_data" / path).read_bytes() == data
    assert pulled.unverified == []
    # A third root holding the same files and no manifest: adopted, no false conflicts.
    third = world.root.parent / "third"
    for path, data in FILES.items():
        target = third / "data/actors" / ACTOR / "training_data" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    adopted = sync(engine(world, proxy.url, third))
    assert adopted.conflicts == [] and adopted.errors == []
    assert adopted.counts.uploaded == 0 and adopted.counts.downloaded == 0
    assert deletes(proxy) == []


def test_a_normal_bucket_costs_at_most_one_extra_head(world: World, proxy: SseProxy) -> None:
    proxy.sse = False
    for n in range(20):
        world.put_s3(ACTOR, f"f{n}.bin", f"file {n}".encode())
    pulled = sync(engine(world, proxy.url))
    assert pulled.errors == [] and pulled.counts.downloaded == 20
    assert [m for m, _ in proxy.log].count("HEAD") <= 1


def test_conditional_completion_and_delete_refused_fall_back_with_one_warning(
    world: World, proxy: SseProxy
) -> None:
    """A server answering 501 to conditions: the upload goes on unconditioned with one
    warning, and a bad upload of ours is left in S3 (named) rather than deleted blind."""
    proxy.sse = False
    proxy.refuse = ("POST", "DELETE", "PUT")
    path = world.put_local(ACTOR, "big.bin", FILES["big.bin"])
    world.put_local(ACTOR, "small.txt", FILES["small.txt"])
    eng = engine(world, proxy.url)

    def change_after_complete(**_: object) -> None:
        with open(path, "ab") as handle:
            handle.write(b"more")

    eng.client.meta.events.register("after-call.s3.CompleteMultipartUpload", change_after_complete)
    events: list[Event] = []
    report = sync(eng, events)

    assert report.counts.uploaded == 1  # small.txt, by an unconditional PUT
    assert len(report.errors) == 1
    assert "changed while it was being uploaded" in report.errors[0]
    assert f"left in S3 at {world.key(ACTOR, 'big.bin')}" in report.errors[0]
    # The one DELETE tried was conditional (and refused); none was sent without If-Match.
    sent = [
        h
        for (m, target), h in zip(proxy.log, proxy.headers, strict=True)
        if m == "DELETE" and not target.split("?")[0].endswith(LEASE_SUFFIX)
    ]
    assert len(sent) == 1 and "if-match" in sent[0]
    assert world.read_s3(ACTOR, "big.bin") == FILES["big.bin"]
    warnings = [e.text for e in events if isinstance(e, Message) and e.level == "warning"]
    assert len([w for w in warnings if "refuses" in w]) == len(set(warnings)) >= 1
    assert proxy.counts["refused"] >= 2


def test_a_multipart_etag_that_is_the_whole_files_md5_proves_the_upload(
    world: World, s3_server: S3Server
) -> None:
    """s3rver and some gateways give a multipart object the MD5 of its content as ETag."""
    with SseProxy(s3_server.port, sse=False, whole_md5=True) as proxy:
        world.put_local(ACTOR, "big.bin", FILES["big.bin"])
        report = sync(engine(world, proxy.url))
        assert report.errors == [] and report.counts.uploaded == 1
        seen = engine(world, proxy.url).client.head_object(
            Bucket=world.bucket, Key=world.key(ACTOR, "big.bin")
        )
        assert seen["ETag"] == f'"{md5(FILES["big.bin"])}"'
        assert deletes(proxy) == []
        assert world.read_s3(ACTOR, "big.bin") == FILES["big.bin"]
        again = sync(engine(world, proxy.url), dry_run=True)
        assert again.changed == 0 and again.conflicts == [] and again.errors == []
        other = world.root.parent / "other"
        pulled = sync(engine(world, proxy.url, other))
        assert pulled.errors == [] and pulled.counts.downloaded == 1
