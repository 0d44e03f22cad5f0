"""Every SPEC §3 row against the loopback S3, through the CLI, with the seed's JSON keys."""

from __future__ import annotations

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, SEED_KEYS, counts, one_object, snapshot, sync_json
from trainsync_tui.cli import main

OLD, NEW, OTHER = b"old contents", b"new contents!", b"someone else's"


def every_row(world: World) -> None:
    """One path per row of the reconciliation table."""
    w = world
    w.put_local(ACTOR, "up_new.bin", b"L only")
    w.put_s3(ACTOR, "down_new.bin", b"R only")
    w.put_local(ACTOR, "same_new.bin", b"both")
    w.put_s3(ACTOR, "same_new.bin", b"both")
    w.put_local(ACTOR, "conflict_new.bin", b"local side")
    w.put_s3(ACTOR, "conflict_new.bin", b"s3 side")
    w.put_local(ACTOR, "dir/up_recorded.bin", OLD)
    w.put_local(ACTOR, "dir/up_changed.bin", NEW)
    w.put_s3(ACTOR, "dir/down_recorded.bin", OLD)
    w.put_s3(ACTOR, "dir/down_changed.bin", NEW)
    for path in ("in_sync.bin", "stale_manifest.bin"):
        w.put_local(ACTOR, path, NEW)
        w.put_s3(ACTOR, path, NEW)
    w.put_local(ACTOR, "deep/a/b/local_changed.bin", NEW)
    w.put_s3(ACTOR, "deep/a/b/local_changed.bin", OLD)
    w.put_local(ACTOR, "s3_changed.bin", OLD)
    w.put_s3(ACTOR, "s3_changed.bin", NEW)
    w.put_local(ACTOR, "conflict_all.bin", NEW)
    w.put_s3(ACTOR, "conflict_all.bin", OTHER)
    w.write_manifest(
        ACTOR,
        {
            "dir/up_recorded.bin": OLD,
            "dir/up_changed.bin": OLD,
            "dir/down_recorded.bin": OLD,
            "dir/down_changed.bin": OLD,
            "gone.bin": OLD,
            "in_sync.bin": NEW,
            "stale_manifest.bin": OLD,
            "deep/a/b/local_changed.bin": OLD,
            "s3_changed.bin": OLD,
            "conflict_all.bin": OLD,
        },
    )


EXPECTED = {
    "uploaded": 4,
    "downloaded": 4,
    "added_to_manifest": 3,
    "updated_in_manifest": 5,
    "removed_from_manifest": 1,
    "deleted_local": 0,
    "deleted_s3": 0,
}


def test_every_row_syncs_to_the_spec_end_state(world: World, capsys) -> None:
    every_row(world)
    code, report = sync_json(world, capsys)

    assert list(report)[: len(SEED_KEYS)] == SEED_KEYS
    assert counts(report) == EXPECTED
    assert report["errors"] == []
    conflicted = sorted(c["path"] for c in report["conflicts"])
    assert conflicted == ["conflict_all.bin", "conflict_new.bin"]
    assert code == 1  # unresolved conflicts

    synced = {
        "up_new.bin": b"L only",
        "down_new.bin": b"R only",
        "same_new.bin": b"both",
        "dir/up_recorded.bin": OLD,
        "dir/up_changed.bin": NEW,
        "dir/down_recorded.bin": OLD,
        "dir/down_changed.bin": NEW,
        "in_sync.bin": NEW,
        "stale_manifest.bin": NEW,
        "deep/a/b/local_changed.bin": NEW,
        "s3_changed.bin": NEW,
    }
    for path, data in synced.items():
        assert world.read_local(ACTOR, path) == data, path
        assert world.read_s3(ACTOR, path) == data, path
    # Conflicts are left exactly as they were, on both sides and in the manifest.
    assert world.read_local(ACTOR, "conflict_all.bin") == NEW
    assert world.read_s3(ACTOR, "conflict_all.bin") == OTHER
    assert world.read_local(ACTOR, "conflict_new.bin") == b"local side"
    manifest = world.manifest_md5s(ACTOR)
    assert manifest == {**{p: md5(d) for p, d in synced.items()}, "conflict_all.bin": md5(OLD)}
    assert world.manifest(ACTOR)["files"]["up_new.bin"]["size"] == len(b"L only")
    assert (world.actor_dir(ACTOR) / "manifest.json.bak").exists()
    assert not any(".trainsync-tmp" in p for p in world.local_paths(ACTOR))


def test_dry_run_changes_nothing_and_predicts_the_real_counts(world: World, capsys) -> None:
    every_row(world)
    manifest_before = (world.actor_dir(ACTOR) / "manifest.json").read_bytes()
    before = snapshot(world)

    code, dry = sync_json(world, capsys, "--dry-run")

    assert snapshot(world) == before
    assert (world.actor_dir(ACTOR) / "manifest.json").read_bytes() == manifest_before
    assert not (world.actor_dir(ACTOR) / "manifest.json.bak").exists()
    assert dry["dry_run"] is True and code == 1
    real_code, real = sync_json(world, capsys)
    assert real_code == 1
    assert counts(dry) == counts(real) == EXPECTED
    assert dry["bytes_uploaded"] == real["bytes_uploaded"]
    assert dry["bytes_downloaded"] == real["bytes_downloaded"]
    assert dry["conflicts"] == real["conflicts"]


def test_second_sync_does_nothing(world: World, capsys) -> None:
    every_row(world)
    sync_json(world, capsys, "--conflict", "local")
    after_first = snapshot(world)
    manifest = (world.actor_dir(ACTOR) / "manifest.json").read_bytes()

    code, second = sync_json(world, capsys)

    assert code == 0
    assert counts(second) == dict.fromkeys(EXPECTED, 0)
    assert second["conflicts"] == [] and second["errors"] == []
    assert snapshot(world) == after_first
    assert (world.actor_dir(ACTOR) / "manifest.json").read_bytes() == manifest


@pytest.mark.parametrize(
    "actor_args",
    [["0042", ACTOR], [ACTOR]],
    ids=["id and name", "name only"],
)
def test_seed_command_line_dry_run_works_as_written(world: World, capsys, actor_args) -> None:
    world.put_local(ACTOR, "a.png", b"x")
    world.put_s3(ACTOR, "b.png", b"y")

    code = main(["sync", *actor_args, "--dry-run", *world.cli_flags()])
    out, err = capsys.readouterr()

    assert code == 0
    assert "dry run" in out and "1 uploaded" in out and "1 downloaded" in out
    assert "Traceback" not in out + err
    assert world.s3_paths(ACTOR) == ["b.png"]
    assert not (world.actor_dir(ACTOR) / "manifest.json").exists()


def test_json_prints_exactly_one_object_and_exit_zero_when_clean(world: World, capsys) -> None:
    world.put_local(ACTOR, "a.png", b"x")
    code = main(["sync", "0042", ACTOR, "--json", *world.cli_flags()])
    captured = capsys.readouterr()
    report = one_object(captured.out)
    assert code == 0 and report["uploaded"] == 1
    assert report["actor_name"] == ACTOR and report["actor_id"] == "0042"
    assert {"bytes_uploaded", "duration_s", "unverified", "conflicts"} <= set(report)


def test_verbose_prints_a_line_per_file_and_no_progress_off_a_tty(world: World, capsys) -> None:
    world.put_local(ACTOR, "a.png", b"x")
    world.put_s3(ACTOR, "b.png", b"y")
    code = main(["sync", ACTOR, "-v", *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 0
    assert "uploaded: a.png" in err and "downloaded: b.png" in err
    assert "\r" not in err  # the progress line is for terminals only
    quiet = main(["sync", ACTOR, *world.cli_flags()])
    out, err = capsys.readouterr()
    assert quiet == 0 and err == "" and "nothing to do" in out


def test_audit_shows_discrepancies_without_syncing(world: World, capsys) -> None:
    every_row(world)
    before = snapshot(world)
    code = main(["audit", "0042", ACTOR, "--json", *world.cli_flags()])
    summary = one_object(capsys.readouterr().out)
    assert snapshot(world) == before
    assert code == 1  # conflicts
    assert {k: v for k, v in summary["counts"].items() if v} == {
        k: v for k, v in EXPECTED.items() if v
    }
    assert len(summary["conflicts"]) == 2
    human = main(["audit", ACTOR, *world.cli_flags()])
    out = capsys.readouterr().out
    assert human == 1 and "conflict: conflict_all.bin" in out and "upload: 4" in out
