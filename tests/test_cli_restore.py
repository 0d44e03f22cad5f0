"""`trainsync restore`: what a --delete-orphans sync trashed comes back, locally and in S3,
verified, never over an existing file or object, and listed in the manifest (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR
from trainsync_tui.cli import main

KEEP, LOCAL, REMOTE, BOTH = b"kept", b"local orphan", b"s3 orphan", b"on both sides"
TRASH = f"trainsync-trash/{ACTOR}/"


def trash_an_orphan_of_each_kind(world: World, capsys: pytest.CaptureFixture[str]) -> str:
    """A sync with --delete-orphans trashes a local, an S3 and a two-sided orphan; the stamp."""
    world.put_in_sync(ACTOR, {"keep.bin": KEEP})
    world.put_local(ACTOR, "old/a.bin", LOCAL)
    world.put_s3(ACTOR, "old/b.bin", REMOTE)
    world.put_local(ACTOR, "same.bin", BOTH)
    world.put_s3(ACTOR, "same.bin", BOTH)
    flags = world.cli_flags()
    assert main(["sync", ACTOR, "--delete-orphans", "--force", "--no-progress", *flags]) == 0
    assert world.local_paths(ACTOR) == ["keep.bin"] and world.s3_paths(ACTOR) == ["keep.bin"]
    capsys.readouterr()
    assert main(["restore", ACTOR, "--json", *flags]) == 0
    listing = json.loads(capsys.readouterr().out)
    (stamp,) = listing["stamps"]
    assert stamp["local"] == ["old/a.bin", "same.bin"] and stamp["s3"] == ["old/b.bin", "same.bin"]
    return str(stamp["stamp"])


def test_restore_lists_then_brings_back_both_sides_and_the_next_sync_converges(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    flags = world.cli_flags()
    assert main(["restore", ACTOR, *flags]) == 0
    listing = capsys.readouterr().out
    assert f"{stamp}  2 local files, 2 S3 objects" in listing
    assert f"trainsync restore {ACTOR} STAMP (or --latest for {stamp})" in listing

    assert main(["restore", ACTOR, "--latest", *flags]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{ACTOR}: restored {stamp}: 2 local files, 2 S3 objects; 3 added"), out
    assert world.read_local(ACTOR, "old/a.bin") == LOCAL
    assert world.read_local(ACTOR, "same.bin") == BOTH
    assert world.read_s3(ACTOR, "old/b.bin") == REMOTE
    assert world.read_s3(ACTOR, "same.bin") == BOTH
    assert world.manifest_md5s(ACTOR) == {
        "keep.bin": md5(KEEP),
        "old/a.bin": md5(LOCAL),
        "old/b.bin": md5(REMOTE),
        "same.bin": md5(BOTH),
    }
    # Restored means taken out of the trash, on both sides.
    assert not (world.actor_dir(ACTOR) / ".trainsync" / "trash" / stamp).exists()
    assert world.s3_keys(TRASH) == []

    # Listed in the manifest, they are no orphans: even --delete-orphans copies them across.
    assert main(["sync", ACTOR, "--delete-orphans", "--json", *flags]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["uploaded"], report["downloaded"], report["deleted_local"]) == (1, 1, 0)
    paths = ["keep.bin", "old/a.bin", "old/b.bin", "same.bin"]
    assert world.local_paths(ACTOR) == paths and world.s3_paths(ACTOR) == paths


def test_restore_never_overwrites_and_leaves_those_in_the_trash(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    world.put_local(ACTOR, "old/a.bin", b"new local")
    world.put_s3(ACTOR, "old/b.bin", b"new in s3")
    manifest_before = world.manifest(ACTOR)

    assert main(["restore", ACTOR, stamp, "--json", *world.cli_flags()]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["restored_local"] == ["same.bin"] and report["restored_s3"] == ["same.bin"]
    assert report["skipped"] == [
        "old/a.bin: exists locally; not overwritten (local trash)",
        "old/b.bin: exists in S3; not overwritten (S3 trash)",
    ]
    assert world.read_local(ACTOR, "old/a.bin") == b"new local"
    assert world.read_s3(ACTOR, "old/b.bin") == b"new in s3"
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash" / stamp
    assert (trash / "old" / "a.bin").read_bytes() == LOCAL
    assert world.s3_keys(TRASH) == [f"{TRASH}{stamp}/old/b.bin"]
    assert world.manifest_md5s(ACTOR) == {
        **{p: e["md5"] for p, e in manifest_before["files"].items()},
        "same.bin": md5(BOTH),
    }


def test_a_dry_run_changes_nothing_and_an_unknown_stamp_is_a_usage_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    flags = world.cli_flags()
    assert main(["restore", ACTOR, stamp, "--dry-run", *flags]) == 0
    assert "dry run - would restore" in capsys.readouterr().out
    assert world.local_paths(ACTOR) == ["keep.bin"] and world.s3_paths(ACTOR) == ["keep.bin"]

    assert main(["restore", ACTOR, "20200101T000000Z", *flags]) == 2
    err = capsys.readouterr().err
    assert f"nothing in the trash under '20200101T000000Z' (stamps: {stamp})" in err


def test_a_versioned_bucket_says_where_its_deleted_objects_are(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.s3.put_bucket_versioning(
        Bucket=world.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    world.write_manifest(ACTOR, {})
    world.put_local(ACTOR, "a.bin", LOCAL)
    world.put_s3(ACTOR, "b.bin", REMOTE)
    flags = world.cli_flags()
    assert main(["sync", ACTOR, "--delete-orphans", "--force", "--no-progress", *flags]) == 0
    capsys.readouterr()

    assert main(["restore", ACTOR, *flags]) == 0
    out = capsys.readouterr().out
    assert "  1 local file, 0 S3 objects" in out
    assert "note: the bucket keeps versions" in out
    assert main(["restore", ACTOR, "--latest", *flags]) == 0
    assert world.read_local(ACTOR, "a.bin") == LOCAL
    assert world.manifest_md5s(ACTOR) == {"a.bin": md5(LOCAL)}


def test_a_path_trashed_twice_in_one_second_comes_back_once_and_says_where_the_other_is(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash" / stamp
    # The executor names a second copy of a path trashed within the same stamp "<name>.1".
    (trash / "old" / "a.bin.1").write_bytes(b"trashed second")

    assert main(["restore", ACTOR, stamp, "--json", *world.cli_flags()]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["restored_local"] == ["old/a.bin", "same.bin"]
    assert report["notes"] == [
        f"old/a.bin: trashed twice in that second; the later copy stays in the trash as "
        f"{trash / 'old' / 'a.bin.1'}"
    ]
    assert world.read_local(ACTOR, "old/a.bin") == LOCAL
    assert (trash / "old" / "a.bin.1").read_bytes() == b"trashed second"


def test_a_linked_folder_does_not_lead_a_restore_out_of_training_data(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash" / stamp
    (trash / "out" / "deep").mkdir(parents=True)
    (trash / "out" / "deep" / "x.bin").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (world.actor_dir(ACTOR) / "training_data" / "out").symlink_to(outside)

    assert main(["restore", ACTOR, stamp, "--json", *world.cli_flags()]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [
        "out/deep/x.bin (local trash): its folder out/ is a symbolic link leading outside "
        "training_data/; refused; left in the trash"
    ]
    assert list(outside.iterdir()) == []  # not even a folder made there
    assert (trash / "out" / "deep" / "x.bin").read_bytes() == b"x"
    assert report["restored_local"] == ["old/a.bin", "same.bin"]
