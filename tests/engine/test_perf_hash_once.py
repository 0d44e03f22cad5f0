"""A file new on both sides is read and hashed once, by its upload, with SPEC §4 intact.

The audit lists it with an empty MD5 (`defer_new`); the upload hashes it in the read it
makes anyway — a small file's bytes as sent (their MD5 goes out as Content-MD5), a big
one's parts before they are sent (each part's MD5 goes out as its Content-MD5) — and
records and caches that MD5. Files S3 or the manifest know are still hashed by the audit.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import World, md5
from tests.engine.test_hash_cache import files_hashed, settled
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import Event, FileStarted
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.audit import Audit, run_audit
from trainsync_tui.engine.run.execute import Executor
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.transfer.context import TransferContext
from trainsync_tui.engine.transfer.transfers import Transfers

ACTOR = "0042_european_30_male"
THRESHOLD = 5 * 1024 * 1024


def audit_deferring(eng: Engine) -> Audit:
    return run_audit(
        eng.actor(ACTOR),
        eng.client,
        eng.settings.require_bucket(),
        eng.cache,
        concurrency=4,
        sink=lambda _: None,
        defer_new=True,
    )


def sync_deferring(world: World, on_start=lambda path: None) -> SyncReport:
    """What Engine.sync does, with the audit deferring new files' hashes to their upload."""
    eng = Engine(world.settings)
    layout = eng.actor(ACTOR)
    audit = audit_deferring(eng)
    plan = eng.plan(audit, SyncOptions())
    report = SyncReport(layout.name, layout.actor_id)
    cancel = CancelToken()
    transfers = Transfers(
        TransferContext.for_run(eng.client, world.bucket, cancel),
        threshold=THRESHOLD,
        chunksize=THRESHOLD,
        concurrency=4,
    )

    def sink(event: Event) -> None:
        if isinstance(event, FileStarted):
            on_start(event.path)

    try:
        Executor(
            layout,
            transfers,
            eng.cache,
            concurrency=4,
            cancel=cancel,
            sink=sink,
            now_iso=eng.now_iso,
            stamp=eng._stamp(),
            versioned=lambda: False,
        ).run(plan, report)
    finally:
        transfers.close()
        eng.close()
    return report


def test_only_files_new_on_both_sides_are_left_unhashed(world: World) -> None:
    world.put_local(ACTOR, "new.bin", b"new")
    world.put_local(ACTOR, "in_s3.bin", b"both")
    world.put_s3(ACTOR, "in_s3.bin", b"both")
    world.put_local(ACTOR, "recorded.bin", b"recorded")
    world.write_manifest(ACTOR, {"recorded.bin": b"recorded"})
    world.put_local(ACTOR, "big.bin", b"b" * THRESHOLD)

    eng = Engine(world.settings)
    try:
        local = audit_deferring(eng).listings.local
    finally:
        eng.close()

    assert local["new.bin"].md5 == ""
    assert local["in_s3.bin"].md5 == md5(b"both")
    assert local["recorded.bin"].md5 == md5(b"recorded")
    assert local["big.bin"].md5 == ""


def test_a_deferred_upload_records_and_caches_the_md5_of_what_it_sent(world: World) -> None:
    files = {f"d{n}/f{n}.bin": f"payload {n}".encode() for n in range(5)}
    settled(*(world.put_local(ACTOR, path, data) for path, data in files.items()))

    report = sync_deferring(world)

    assert report.errors == []
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    for path, data in files.items():
        head = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, path))
        assert head["Metadata"]["md5"] == md5(data)
        assert world.read_s3(ACTOR, path) == data
    # The upload's hash went to the cache: the next audit reads no file.
    assert files_hashed(world) == 0


def test_a_deferred_file_changed_after_the_audit_is_not_sent(world: World) -> None:
    path = world.put_local(ACTOR, "a.bin", b"as audited")

    def change(_: str) -> None:
        Path(path).write_bytes(b"rewritten after the audit")
        os.utime(path, (1_000_000, 1_000_000))

    report = sync_deferring(world, change)

    assert any(e.startswith("a.bin:") and "changed locally" in e for e in report.errors)
    assert world.s3_paths(ACTOR) == []
    assert world.manifest_md5s(ACTOR) == {}


def test_a_deferred_file_removed_after_the_audit_is_an_error_not_a_crash(world: World) -> None:
    path = world.put_local(ACTOR, "gone.bin", b"soon gone")
    report = sync_deferring(world, lambda _: Path(path).unlink())
    assert any(e.startswith("gone.bin:") and "removed locally" in e for e in report.errors)
    assert world.s3_paths(ACTOR) == []


def test_a_deferred_big_file_is_hashed_once_with_its_parts_and_recorded(world: World) -> None:
    data = bytes(range(256)) * (THRESHOLD * 2 // 256) + b"tail"  # three parts
    settled(world.put_local(ACTOR, "big.bin", data))

    report = sync_deferring(world)

    assert report.errors == []
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(data)}
    world.assert_uploaded_in_parts(ACTOR, "big.bin", data, parts=3)
    assert files_hashed(world) == 0  # its MD5 from the cache
