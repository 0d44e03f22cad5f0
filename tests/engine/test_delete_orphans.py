"""--delete-orphans: recoverable deletes on both sides, and the guard that stops mass deletes."""

from __future__ import annotations

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, counts, snapshot, sync_json

KEEP = {f"keep{i}.bin": f"keep {i}".encode() for i in range(3)}


def tracked(world: World) -> None:
    world.put_in_sync(ACTOR, KEEP)


def test_orphans_go_to_the_local_trash_folder_and_the_s3_trash_prefix(world: World, capsys) -> None:
    tracked(world)
    world.put_local(ACTOR, "stray/local.bin", b"local orphan")
    world.put_s3(ACTOR, "s3orphan.bin", b"s3 orphan")

    code, report = sync_json(world, capsys, "--delete-orphans")

    assert code == 0, report
    assert (report["deleted_local"], report["deleted_s3"]) == (1, 1)
    assert report["uploaded"] == report["downloaded"] == report["added_to_manifest"] == 0
    assert world.local_paths(ACTOR) == sorted(KEEP)
    assert world.s3_paths(ACTOR) == sorted(KEEP)
    trash = list((world.actor_dir(ACTOR) / ".trainsync" / "trash").rglob("local.bin"))
    assert [p.read_bytes() for p in trash] == [b"local orphan"]
    (kept,) = world.s3_keys(f"trainsync-trash/{ACTOR}/")
    assert kept.endswith("/s3orphan.bin")
    assert world.s3.get_object(Bucket=world.bucket, Key=kept)["Body"].read() == b"s3 orphan"
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in KEEP.items()}


def test_versioned_bucket_deletes_without_a_trash_copy(world: World, capsys) -> None:
    world.s3.put_bucket_versioning(
        Bucket=world.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    tracked(world)
    world.put_s3(ACTOR, "s3orphan.bin", b"s3 orphan")

    code, report = sync_json(world, capsys, "--delete-orphans")

    assert code == 0 and report["deleted_s3"] == 1
    assert world.s3_keys("trainsync-trash/") == []
    versions = world.s3.list_object_versions(
        Bucket=world.bucket, Prefix=world.key(ACTOR, "s3orphan.bin")
    )
    assert len(versions.get("Versions", [])) == 1  # still recoverable from S3 itself


def test_guard_refuses_deleting_more_than_half_unless_forced(world: World, capsys) -> None:
    world.write_manifest(ACTOR, {"keep.bin": b"k"})
    world.put_local(ACTOR, "keep.bin", b"k")
    world.put_s3(ACTOR, "keep.bin", b"k")
    for i in range(3):
        world.put_s3(ACTOR, f"orphan{i}.bin", b"o")
    before = snapshot(world)

    code, report = sync_json(world, capsys, "--delete-orphans")

    assert code == 1
    assert "refusing to delete 3 of 4" in report["errors"][0] and "--force" in report["errors"][0]
    assert sum(counts(report).values()) == 0
    assert snapshot(world) == before

    code, report = sync_json(world, capsys, "--delete-orphans", "--max-delete", "80%")
    assert code == 0 and report["deleted_s3"] == 3

    world.put_s3(ACTOR, "late.bin", b"o")
    world.put_s3(ACTOR, "late2.bin", b"o")
    code, report = sync_json(world, capsys, "--delete-orphans", "--max-delete", "0.1")
    assert code == 1 and report["deleted_s3"] == 0
    code, report = sync_json(world, capsys, "--delete-orphans", "--max-delete", "0.1", "--force")
    assert code == 0 and report["deleted_s3"] == 2
    assert world.s3_paths(ACTOR) == ["keep.bin"]


def test_without_the_flag_orphans_are_adopted(world: World, capsys) -> None:
    tracked(world)
    world.put_s3(ACTOR, "s3orphan.bin", b"s3 orphan")
    code, report = sync_json(world, capsys)
    assert code == 0 and report["downloaded"] == 1 and report["added_to_manifest"] == 1
    assert report["deleted_s3"] == 0
    assert "s3orphan.bin" in world.manifest_md5s(ACTOR)
