"""--all over a bucket holding S3 folders that are not valid actor names: each is skipped with
one warning line on stderr naming it, the other actors still sync, the exit code holds, and
--json stays one report per actor."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import World
from tests.engine.clitools import one_object
from trainsync_tui.cli import main
from trainsync_tui.engine.facade import Engine

GOOD = "0002_s3_only"


def put_folder(world: World, name: str) -> None:
    world.put_s3(GOOD, "", b"who am i", key=f"actors/{name}/training_data/f.bin")


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: S3 folder")]


def run(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI with these arguments on the world's bucket: its exit code, stdout and stderr."""
    code = main([*args, *world.cli_flags()])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bucket_with_hostile_folder(world: World) -> World:
    world.put_s3(GOOD, "b.bin", b"b")
    put_folder(world, "..")
    return world


def test_sync_all_names_the_skipped_folder_and_syncs_the_others(
    bucket_with_hostile_folder: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = bucket_with_hostile_folder
    code, out, err = run(world, capsys, "sync", "--all", "--no-progress")

    assert code == 0
    assert world.read_local(GOOD, "b.bin") == b"b"
    assert f"{GOOD}: done" in out
    assert warnings(err) == [
        f"warning: S3 folder 's3://{world.bucket}/actors/../' skipped: "
        "its name must not start with '.'; rename it to sync it"
    ]
    assert not (world.root / "data" / "training_data").exists()  # nothing under actors/../


def test_sync_all_json_warns_on_stderr_and_keeps_one_report_per_actor(
    bucket_with_hostile_folder: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = bucket_with_hostile_folder
    put_folder(world, "x\x1b[31my")  # a terminal escape in a bucket key
    code, out, err = run(world, capsys, "sync", "--all", "--json")
    reports = one_object(out)

    assert code == 0
    assert sorted(reports) == [GOOD]  # SPEC §5: one report per actor, keyed by actor name
    assert reports[GOOD]["downloaded"] == 1 and reports[GOOD]["errors"] == []
    skipped = warnings(err)
    assert len(skipped) == 2
    assert any("'s3://" in s and "/actors/../'" in s for s in skipped)
    assert any("x\\x1b[31my" in s and "control character" in s for s in skipped)
    assert "\x1b" not in err  # escaped, never sent to the terminal raw


def test_audit_all_json_warns_about_the_skipped_folder_and_exits_clean(
    bucket_with_hostile_folder: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = bucket_with_hostile_folder
    code, out, err = run(world, capsys, "audit", "--all", "--json")
    summary = one_object(out)

    assert code == 0
    assert sorted(summary) == [GOOD]
    assert summary[GOOD]["counts"]["downloaded"] == 1
    skipped = warnings(err)
    assert len(skipped) == 1 and "/actors/../'" in skipped[0]


def test_our_own_trash_is_never_reported_as_a_skipped_actor(world: World) -> None:
    """A trash folder at the bucket root whose name is no actor name (".trash") is ours."""
    settings = dataclasses.replace(
        world.settings, prefix="{actor_name}/", trash_prefix=".trash/{actor_name}/"
    )
    world.put_s3(GOOD, "", b"b", key=f"{GOOD}/b.bin")
    world.put_s3(GOOD, "", b"old", key=f".trash/{GOOD}/b.bin")
    world.put_s3(GOOD, "", b"x", key=".hidden/f.bin")
    skipped: list[str] = []

    names = Engine(settings).actor_names(on_skip=skipped.append)

    assert names == [GOOD]
    assert len(skipped) == 1 and f"'s3://{world.bucket}/.hidden/'" in skipped[0]
