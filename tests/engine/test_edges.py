"""Edge cases found while proving issue 2: one-part multipart objects, look-alike temp names."""

from __future__ import annotations

import dataclasses

from tests.conftest import World, md5
from trainsync_tui.engine.api import Engine, SyncOptions

ACTOR = "0042_european_30_male"
MiB = 1024 * 1024
FIVE = bytes(range(256)) * (5 * MiB // 256)  # exactly the threshold: one part


def sync(world: World, cache: str = "cache"):
    settings = dataclasses.replace(
        world.settings,
        multipart_threshold=5 * MiB,
        multipart_chunksize=8 * MiB,
        cache_dir=world.root.parent / cache,
    )
    eng = Engine(settings)
    try:
        return eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()


def test_file_at_the_threshold_uploads_as_a_one_part_multipart_object(world: World) -> None:
    world.put_local(ACTOR, "five.bin", FIVE)
    report = sync(world)
    assert report.errors == [] and report.counts["uploaded"] == 1
    head = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, "five.bin"))
    assert head["ETag"].strip('"').endswith("-1")
    assert world.read_s3(ACTOR, "five.bin") == FIVE
    assert world.manifest_md5s(ACTOR) == {"five.bin": md5(FIVE)}


def test_foreign_one_part_multipart_object_is_verified(world: World) -> None:
    world.put_s3(ACTOR, "five.bin", FIVE, multipart=True)
    world.put_local(ACTOR, "five.bin", FIVE)
    report = sync(world)
    assert report.conflicts == [] and report.errors == [] and report.unverified == []
    assert report.counts["added_to_manifest"] == 1


def test_foreign_one_part_multipart_download_is_verified(world: World) -> None:
    world.put_s3(ACTOR, "five.bin", FIVE, multipart=True)
    report = sync(world)
    assert report.errors == [] and report.counts["downloaded"] == 1
    assert world.read_local(ACTOR, "five.bin") == FIVE


def test_data_files_named_like_download_temp_files_are_synced(world: World) -> None:
    world.put_local(ACTOR, "ckpt/model.step.00001000", b"weights")
    world.put_s3(ACTOR, "frames/clip.png.deadbeef", b"frame")
    report = sync(world)
    assert report.errors == []
    assert world.s3_paths(ACTOR) == ["ckpt/model.step.00001000", "frames/clip.png.deadbeef"]
    assert world.local_paths(ACTOR) == world.s3_paths(ACTOR)
