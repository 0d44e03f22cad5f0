"""What changes between the audit and the transfer is never overwritten silently."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import World, md5
from trainsync_tui.engine.events import Event, FileStarted
from trainsync_tui.engine.facade import Engine, SyncOptions

ACTOR = "0042_european_30_male"
MiB = 1024 * 1024


def run(world: World, on_start, *, multipart: bool = False):
    settings = world.settings
    if multipart:
        settings = dataclasses.replace(
            settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB
        )
    eng = Engine(settings)

    def sink(event: Event) -> None:
        if isinstance(event, FileStarted):
            on_start(event.path)

    try:
        return eng.sync(eng.actor(ACTOR), SyncOptions(), sink=sink)
    finally:
        eng.close()


@pytest.mark.parametrize("multipart", [False, True], ids=["single put", "multipart"])
def test_object_created_in_s3_after_the_audit_is_not_overwritten(
    world: World, multipart: bool
) -> None:
    data = b"L" * (6 * MiB if multipart else 100)
    world.put_local(ACTOR, "new.bin", data)

    report = run(
        world, lambda path: world.put_s3(ACTOR, path, b"someone else"), multipart=multipart
    )

    assert report.counts.uploaded == 0
    assert report.errors == ["new.bin: changed in S3 since the audit; sync again"]
    assert world.read_s3(ACTOR, "new.bin") == b"someone else"
    assert world.manifest_md5s(ACTOR) == {}


def test_object_changed_in_s3_after_the_audit_is_not_overwritten(world: World) -> None:
    world.put_local(ACTOR, "a.bin", b"new local")
    world.put_s3(ACTOR, "a.bin", b"recorded")
    world.write_manifest(ACTOR, {"a.bin": b"recorded"})

    report = run(world, lambda path: world.put_s3(ACTOR, path, b"changed meanwhile"))

    assert report.errors == ["a.bin: changed in S3 since the audit; sync again"]
    assert world.read_s3(ACTOR, "a.bin") == b"changed meanwhile"
    assert world.manifest_md5s(ACTOR) == {"a.bin": md5(b"recorded")}


def test_local_file_created_after_the_audit_is_not_overwritten(world: World) -> None:
    world.put_s3(ACTOR, "d.bin", b"from s3")

    report = run(world, lambda path: world.put_local(ACTOR, path, b"written meanwhile"))

    assert report.errors == ["d.bin: appeared locally since the audit; sync again"]
    assert world.read_local(ACTOR, "d.bin") == b"written meanwhile"
    assert world.manifest_md5s(ACTOR) == {}


def test_object_changed_in_s3_before_its_download_is_not_kept(world: World) -> None:
    world.put_s3(ACTOR, "d.bin", b"listed")

    report = run(world, lambda path: world.put_s3(ACTOR, path, b"replaced meanwhile"))

    assert report.errors == ["d.bin: changed in S3 since the audit; sync again"]
    assert world.local_paths(ACTOR) == []
    assert world.manifest_md5s(ACTOR) == {}
