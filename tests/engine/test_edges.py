"""Edge cases found while proving issue 2: one-part multipart objects, look-alike temp names.
(Our own upload of a file at the threshold, one part, is a case in test_multipart.)"""

from __future__ import annotations

import dataclasses

from tests.conftest import World
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.counts import Counts

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


def test_foreign_one_part_multipart_object_is_verified(world: World) -> None:
    world.put_s3(ACTOR, "five.bin", FIVE, multipart=True)
    world.put_local(ACTOR, "five.bin", FIVE)
    report = sync(world)
    assert report.conflicts == [] and report.errors == [] and report.unverified == []
    assert report.counts.added_to_manifest == 1


def test_foreign_one_part_multipart_download_is_verified(world: World) -> None:
    world.put_s3(ACTOR, "five.bin", FIVE, multipart=True)
    report = sync(world)
    assert report.errors == [] and report.counts.downloaded == 1
    assert world.read_local(ACTOR, "five.bin") == FIVE


def test_data_files_named_like_download_temp_files_are_synced(world: World) -> None:
    world.put_local(ACTOR, "ckpt/model.step.00001000", b"weights")
    world.put_s3(ACTOR, "frames/clip.png.deadbeef", b"frame")
    report = sync(world)
    assert report.errors == []
    assert world.s3_paths(ACTOR) == ["ckpt/model.step.00001000", "frames/clip.png.deadbeef"]
    assert world.local_paths(ACTOR) == world.s3_paths(ACTOR)


def test_all_never_takes_the_s3_trash_for_an_actor(world: World, capsys) -> None:
    import json

    from trainsync_tui.cli import main

    flags = [*world.cli_flags(), "--prefix", "{actor_name}/"]
    world.put_s3(ACTOR, "", b"tracked", key=f"{ACTOR}/keep.bin")
    world.put_s3(ACTOR, "", b"orphan", key=f"{ACTOR}/orphan.bin")
    world.write_manifest(ACTOR, {"keep.bin": b"tracked"})
    assert main(["sync", ACTOR, "--delete-orphans", "--force", "--json", *flags]) == 0
    assert any(k.startswith("trainsync-trash/") for k in world.s3_keys())
    capsys.readouterr()

    code = main(["sync", "--all", "--json", *flags])
    reports = json.loads(capsys.readouterr().out)

    assert code == 0 and sorted(reports) == [ACTOR]
    assert not (world.root / "data" / "actors" / "trainsync-trash").exists()


def test_names_with_spaces_and_url_characters_round_trip(world: World) -> None:
    names = ["a b.png", "ü/ñ.png", "100%.png", "a+b=c.png", "#hash&q?.png", "x~y,z;.png"]
    for i, name in enumerate(names):
        if i % 2:
            world.put_local(ACTOR, name, name.encode())
        else:
            world.put_s3(ACTOR, name, name.encode())
    report = sync(world)
    assert report.errors == [] and report.conflicts == []
    assert world.s3_paths(ACTOR) == sorted(names)
    assert sorted(world.local_paths(ACTOR)) == sorted(names)
    assert sync(world).counts == Counts()
