"""The delete guard covers manifest entries dropped because their files are gone everywhere."""

from __future__ import annotations

from tests.conftest import World
from tests.engine.clitools import ACTOR, sync_json

GONE = {f"images/{i}.png": f"gone {i}".encode() for i in range(8)}


def test_a_manifest_whose_files_are_all_gone_is_not_emptied_without_force(
    world: World, capsys
) -> None:
    world.write_manifest(ACTOR, {**GONE, "kept.bin": b"kept"})
    world.put_local(ACTOR, "kept.bin", b"kept")
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    before = manifest.read_bytes()

    for extra in ((), ("--dry-run",)):
        code, report = sync_json(world, capsys, *extra)

        assert code == 1
        [error] = report["errors"]
        assert "drop 8 of 9 manifest entries" in error and "(89% > 50%)" in error, error
        assert "--root" in error and "--force" in error
        assert report["removed_from_manifest"] == 0 and report["uploaded"] == 0
        assert manifest.read_bytes() == before
    assert world.s3_paths(ACTOR) == []

    code, report = sync_json(world, capsys, "--force")

    assert code == 0, report
    assert report["removed_from_manifest"] == 8 and report["uploaded"] == 1
    assert set(world.manifest_md5s(ACTOR)) == {"kept.bin"}


def test_a_share_of_gone_files_within_the_guard_is_dropped(world: World, capsys) -> None:
    world.write_manifest(ACTOR, {"a.bin": b"a", "b.bin": b"b", "gone.bin": b"gone"})
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_s3(ACTOR, "b.bin", b"b")

    code, report = sync_json(world, capsys)

    assert code == 0, report
    assert report["removed_from_manifest"] == 1
    assert set(world.manifest_md5s(ACTOR)) == {"a.bin", "b.bin"}


def test_deletions_and_dropped_entries_count_together(world: World, capsys) -> None:
    world.write_manifest(ACTOR, {"kept.bin": b"kept", "gone.bin": b"gone"})
    world.put_local(ACTOR, "kept.bin", b"kept")
    world.put_s3(ACTOR, "kept.bin", b"kept")
    world.put_local(ACTOR, "orphan.bin", b"orphan")

    code, report = sync_json(world, capsys, "--delete-orphans", "--max-delete", "60%")

    assert code == 1
    [error] = report["errors"]
    assert "delete 1 files and drop 1 manifest entries of 3 (67% > 60%)" in error, error
    assert world.local_paths(ACTOR) == ["kept.bin", "orphan.bin"]
    assert set(world.manifest_md5s(ACTOR)) == {"kept.bin", "gone.bin"}
