"""Two roots syncing one actor of one bucket: a multipart upload never lands over, and a
clean-up never deletes, the other root's object (issue 14, item 1)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from tests.conftest import World, md5
from trainsync_tui.engine.errors import LockBusyError
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport

ACTOR = "0014_two_roots"
MiB = 1024 * 1024


def blob(seed: int, size: int) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]


def engine_for(world: World, root: Path) -> Engine:
    (root / "data" / "actors").mkdir(parents=True, exist_ok=True)
    settings = dataclasses.replace(
        world.settings,
        root=root,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        concurrency=1,
        cache_dir=root / "cache",
    )
    return Engine(settings)


def put(root: Path, data: bytes) -> Path:
    path = root / "data" / "actors" / ACTOR / "training_data" / "data.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sync(eng: Engine) -> SyncReport:
    return eng.sync(eng.actor(ACTOR), SyncOptions())


def on_call(eng: Engine, event: str, action: Any, n: int = 1) -> list[bool]:
    """Run `action` once, at the n-th `event` of A's client (a botocore hook), so B writes
    while A's upload is under way: after its parts are sent, before it completes.

    (Not between two parts: moto 5 answers 500 to an UploadPart after a PutObject of the
    same key, which real S3 does not.)
    """
    fired: list[bool] = []
    calls: list[int] = []

    def hook(**_: Any) -> None:
        calls.append(1)
        if len(calls) == n and not fired:
            fired.append(True)
            action()

    eng.client.meta.events.register(event, hook)
    return fired


def b_writes(world: World, b: Engine, data: bytes, **condition: str) -> list[str]:
    """B's trainsync is refused by A's lease while A syncs; B's bytes then arrive the way
    another tool's would (or B's own on a server where the lease cannot hold): one PUT with
    the condition trainsync sends. Returns the lease refusal B got."""
    refusals: list[str] = []
    try:
        sync(b)
    except LockBusyError as exc:
        refusals.append(str(exc))
    world.s3.put_object(
        Bucket=world.bucket, Key=world.key(ACTOR, "data.bin"), Body=data, **condition
    )
    return refusals


def s3_bytes(world: World) -> bytes:
    return world.read_s3(ACTOR, "data.bin")


def test_a_new_key_written_by_b_during_as_multipart_upload_survives(world: World) -> None:
    a, b = engine_for(world, world.root / "a"), engine_for(world, world.root / "b")
    big, small = blob(1, 12 * MiB), blob(2, 1 * MiB)
    put(world.root / "a", big)
    put(world.root / "b", small)
    # Just before A completes its upload, B's data.bin arrives (one conditional PUT): only
    # the completion's own If-None-Match can stop A now.
    refusals: list[list[str]] = []
    fired = on_call(
        a,
        "before-call.s3.CompleteMultipartUpload",
        lambda: refusals.append(b_writes(world, b, small, IfNoneMatch="*")),
    )

    report = sync(a)

    assert fired and len(refusals[0]) == 1 and "already being synced" in refusals[0][0]
    assert report.counts.uploaded == 0
    assert report.errors == ["data.bin: changed in S3 since the audit; sync again"]
    assert s3_bytes(world) == small  # B's version is kept
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
    # The next run of A sees a conflict, not an upload over B's object.
    again = sync(a)
    assert again.counts.uploaded == 0 and [c.path for c in again.conflicts] == ["data.bin"]
    assert s3_bytes(world) == small
    a.close()
    b.close()


def test_a_replaced_object_changed_by_b_during_as_upload_survives(world: World) -> None:
    a, b = engine_for(world, world.root / "a"), engine_for(world, world.root / "b")
    first = blob(3, 2 * MiB)
    put(world.root / "a", first)
    assert sync(a).counts.uploaded == 1
    assert sync(b).counts.downloaded == 1
    mine, theirs = blob(4, 12 * MiB), blob(5, 1 * MiB)
    put(world.root / "a", mine)
    put(world.root / "b", theirs)
    # Once A's last part is sent, B replaces the object (a conditional PUT over v0).
    v0 = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, "data.bin"))["ETag"]
    fired = on_call(
        a, "after-call.s3.UploadPart", lambda: b_writes(world, b, theirs, IfMatch=v0), n=3
    )

    report = sync(a)

    assert fired and s3_bytes(world) == theirs
    assert report.counts.uploaded == 0
    assert report.errors == ["data.bin: changed in S3 since the audit; sync again"]
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
    assert world.manifest_md5s(ACTOR) == {}  # (A's manifest is under root a)
    manifest_a = (world.root / "a" / "data" / "actors" / ACTOR / "manifest.json").read_text()
    assert md5(first) in manifest_a and md5(mine) not in manifest_a
    a.close()
    b.close()


def test_our_bad_upload_is_deleted_only_while_it_is_still_ours(world: World) -> None:
    """A's file changes just after its upload completes (so A removes the object it made),
    and another writer has put its own object there in between: that one must stay."""
    a = engine_for(world, world.root / "a")
    path = put(world.root / "a", blob(6, 12 * MiB))
    other = blob(7, 100)

    def change_and_overwrite(**_: Any) -> None:
        with open(path, "ab") as handle:
            handle.write(b"more")
        world.s3.put_object(Bucket=world.bucket, Key=world.key(ACTOR, "data.bin"), Body=other)

    a.client.meta.events.register("after-call.s3.CompleteMultipartUpload", change_and_overwrite)

    report = sync(a)

    assert report.counts.uploaded == 0
    assert len(report.errors) == 1 and "changed while it was being uploaded" in report.errors[0]
    assert "another writer's object" in report.errors[0]
    assert s3_bytes(world) == other
    a.close()


def test_an_orphan_rewritten_after_the_audit_is_not_deleted(world: World) -> None:
    """delete-orphans copies the orphan to the trash, then deletes it: a new object written
    there in between (another root's upload) must survive."""
    a = engine_for(world, world.root / "a")
    world.put_s3(ACTOR, "data.bin", b"old orphan")
    newer = blob(8, 1000)

    def rewrite(**_: Any) -> None:
        world.s3.put_object(Bucket=world.bucket, Key=world.key(ACTOR, "data.bin"), Body=newer)

    on_call(a, "after-call.s3.CopyObject", rewrite)
    report = a.sync(a.actor(ACTOR), SyncOptions(delete_orphans=True, force=True))

    assert report.counts.deleted_s3 == 0
    assert report.errors == ["data.bin: changed in S3 since the audit; sync again (not deleted)"]
    assert s3_bytes(world) == newer
    a.close()
