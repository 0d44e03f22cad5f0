"""Multipart objects (> threshold) both ways, and files that change while they are uploaded."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.test_edges import FIVE
from tests.reliability.faultproxy import FaultProxy
from tests.s3server import S3Server
from trainsync_tui.engine.events import Event, FileStarted, Progress
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

ACTOR = "0007_multipart_test"
MiB = 1024 * 1024
BIG = hashlib.sha256(b"seed").digest() * (11 * MiB // 32) + b"tail"  # ~11 MiB, 3 parts of 5


def engine(world: World, cache: str = "cache", chunk: int = 5 * MiB) -> Engine:
    settings = dataclasses.replace(
        world.settings,
        multipart_threshold=5 * MiB,
        multipart_chunksize=chunk,
        cache_dir=world.root.parent / cache,
    )
    return Engine(settings)


def sync(world: World, eng: Engine | None = None, **options: object):
    eng = eng or engine(world)
    try:
        return eng.sync(eng.actor(ACTOR), SyncOptions(**options))  # type: ignore[arg-type]
    finally:
        eng.close()


def changed(report) -> int:
    return report.counts.total


@pytest.mark.parametrize(
    ("data", "parts"), [(BIG, 3), (FIVE, 1)], ids=["three parts", "at the threshold: one part"]
)
def test_upload_of_a_big_file_is_multipart_with_md5_metadata(
    world: World, data: bytes, parts: int
) -> None:
    world.put_local(ACTOR, "big.bin", data)
    report = sync(world)
    assert report.errors == [] and report.counts.uploaded == 1
    world.assert_uploaded_in_parts(ACTOR, "big.bin", data, parts=parts)
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(data)}
    # A machine with no cache learns the MD5 from the metadata: nothing to do, nothing unverified.
    again = sync(world, engine(world, cache="fresh-cache"))
    assert changed(again) == 0 and again.conflicts == [] and again.unverified == []


def test_every_upload_body_carries_its_md5_and_is_not_sha256_signed_again(
    world: World, s3_server: S3Server
) -> None:
    """On plain HTTP botocore would SHA-256 each body for the signature (reading each part from
    the file once more); the body's signed Content-MD5, checked by S3, already covers it."""
    world.put_local(ACTOR, "big.bin", BIG)
    world.put_local(ACTOR, "small.bin", b"small")
    with FaultProxy(s3_server.port, {}) as proxy:
        through = dataclasses.replace(world, url=proxy.url)
        report = sync(through, engine(through))
    assert report.errors == [] and report.counts.uploaded == 2
    sent = [
        (target, headers)
        for (method, target), headers in zip(proxy.log, proxy.headers, strict=True)
        if method == "PUT" and int(headers.get("content-length", 0))
    ]
    uploads = [(t, h) for t, h in sent if not t.endswith(LEASE_SUFFIX)]
    assert len(uploads) == 4, sent  # three parts and the small file (and the actor's lease)
    for target, headers in sent:
        assert headers.get("content-md5"), target
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD", target
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 "), target
    assert world.read_s3(ACTOR, "big.bin") == BIG and world.read_s3(ACTOR, "small.bin") == b"small"


def test_foreign_multipart_object_matches_local_by_its_own_part_size(world: World) -> None:
    """Uploaded by another tool in 5 MiB parts, no MD5 metadata; we use 8 MiB parts."""
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    world.put_local(ACTOR, "big.bin", BIG)
    report = sync(world, engine(world, chunk=8 * MiB))
    assert report.conflicts == [] and report.errors == []
    assert report.unverified == []
    assert report.counts.added_to_manifest == 1 and changed(report) == 1
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(BIG)}


def test_a_foreign_multipart_objects_md5_comes_from_the_read_that_matched_its_etag(
    world: World,
) -> None:
    """The audit hashed an older version of the file; it now has the object's bytes. S3's
    MD5 is what the matching read gave, never the audit's stale one (nor cached as such)."""
    from trainsync_tui.engine.hashing import HashCache
    from trainsync_tui.engine.s3.listing import resolve_multipart, scan_remote
    from trainsync_tui.engine.scanned import LocalFile

    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    path = world.put_local(ACTOR, "big.bin", BIG)
    stale = LocalFile("big.bin", len(BIG), path.stat().st_mtime, md5(b"what the audit read"))
    scan = scan_remote(world.s3, world.bucket, world.key(ACTOR, ""))
    cache = HashCache(None)
    resolve_multipart(world.s3, world.bucket, scan, {"big.bin": stale}, lambda _: str(path), cache)
    etag = scan.objects["big.bin"].etag
    assert scan.objects["big.bin"].md5 == md5(BIG)
    assert cache.md5_for_etag(etag, len(BIG)) == md5(BIG)


def test_foreign_multipart_object_that_differs_is_a_conflict(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    world.put_local(ACTOR, "big.bin", BIG[:-1] + b"X")
    report = sync(world)
    assert [c.path for c in report.conflicts] == ["big.bin"]
    assert report.conflicts[0].remote.md5 is None
    assert changed(report) == 0


def test_foreign_multipart_download_is_verified_by_its_etag(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    report = sync(world)
    assert report.errors == [] and report.counts.downloaded == 1
    assert report.unverified == []  # checked against its ETag with its own part size
    assert world.read_local(ACTOR, "big.bin") == BIG
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(BIG)}
    assert not [p for p in world.local_paths(ACTOR) if p != "big.bin"]
    again = sync(world, engine(world, cache="fresh-cache"))
    assert changed(again) == 0 and again.conflicts == []


def test_multipart_download_with_md5_metadata(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True, metadata={"md5": md5(BIG)})
    report = sync(world)
    assert report.errors == [] and report.unverified == []
    assert world.read_local(ACTOR, "big.bin") == BIG


def test_small_file_changed_between_audit_and_upload_is_not_recorded(world: World) -> None:
    path = world.put_local(ACTOR, "small.bin", b"version one")
    world.put_local(ACTOR, "other.bin", b"other")

    def sink(event: Event) -> None:
        if isinstance(event, FileStarted) and event.path == "small.bin":
            path.write_bytes(b"version two!")

    eng = engine(world)
    report = eng.sync(eng.actor(ACTOR), SyncOptions(), sink=sink)
    eng.close()

    assert [e for e in report.errors if e.startswith("small.bin:")], report.errors
    assert "small.bin" not in world.manifest_md5s(ACTOR)
    assert world.s3_paths(ACTOR) == ["other.bin"]
    assert report.counts.uploaded == 1
    follow = sync(world)
    assert follow.errors == []
    assert world.read_s3(ACTOR, "small.bin") == b"version two!"
    assert world.manifest_md5s(ACTOR)["small.bin"] == md5(b"version two!")


def test_file_appended_to_while_its_parts_are_sent_is_not_recorded(world: World) -> None:
    data = BIG * 6  # 13 parts of 5 MiB
    path = world.put_local(ACTOR, "huge.bin", data)
    appended: list[bool] = []

    def sink(event: Event) -> None:
        if isinstance(event, Progress) and event.bytes_done and not appended:
            appended.append(True)
            with open(path, "ab") as handle:
                handle.write(b"appended while uploading")

    eng = engine(world)
    report = eng.sync(eng.actor(ACTOR), SyncOptions(), sink=sink)
    eng.close()

    assert appended
    assert report.counts.uploaded == 0
    assert any("changed while it was being uploaded" in e for e in report.errors), report.errors
    assert world.s3_paths(ACTOR) == []
    assert world.manifest_md5s(ACTOR) == {}
    follow = sync(world)
    assert follow.errors == [] and follow.counts.uploaded == 1
    assert world.manifest_md5s(ACTOR) == {"huge.bin": md5(path.read_bytes())}


def upload_changing_it_after_the_first_bytes(
    world: World, change: Callable[[Path], None]
) -> SyncReport:
    """Sync big.bin one request at a time, calling `change` once its first part is being
    sent (the later parts are not read yet); then check nothing of it was kept."""
    path = world.put_local(ACTOR, "big.bin", BIG)
    changed_it: list[bool] = []

    def sink(event: Event) -> None:
        if isinstance(event, Progress) and event.bytes_done and not changed_it:
            changed_it.append(True)
            change(path)

    settings = dataclasses.replace(engine(world).settings, concurrency=1)
    eng = Engine(settings)
    report = eng.sync(eng.actor(ACTOR), SyncOptions(), sink=sink)
    uploads = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
    eng.close()

    assert changed_it
    assert report.counts.uploaded == 0
    assert any("changed while it was being uploaded" in e for e in report.errors), report.errors
    assert world.s3_paths(ACTOR) == []
    assert uploads == []  # the failed upload was aborted, not left to be billed
    assert world.manifest_md5s(ACTOR) == {}
    return report


def test_a_part_rewritten_after_hashing_is_refused_by_its_content_md5(world: World) -> None:
    """The stamp is put back, so only the part's Content-MD5 can tell: S3 must refuse it."""

    def rewrite_last_part_keeping_the_stamp(path: Path) -> None:
        before = os.stat(path)
        with open(path, "r+b") as handle:
            handle.seek(len(BIG) - 100)
            handle.write(b"X" * 50)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    upload_changing_it_after_the_first_bytes(world, rewrite_last_part_keeping_the_stamp)


def test_a_file_truncated_while_its_parts_are_sent_fails_promptly(world: World) -> None:
    """A part now shorter than announced must fail the upload, not wait for missing bytes."""
    # The last part is gone, the second one cut short.
    upload_changing_it_after_the_first_bytes(world, lambda path: os.truncate(path, 6 * MiB))
