"""Typos treated evenly (issue 25 item 5): every command that takes an actor answers an
unknown name with the same one-line error and "did you mean" (exit 2), and an --only or
--exclude that matches no file of the actor is an error naming the nearest paths, not
"done: nothing to do" (a cron job with a typo would never sync and never say so)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from trainsync_tui.cli import main

MIXED = "0047_mixed_28_male"


@pytest.mark.parametrize(
    ("command", "typo", "meant"),
    [
        (["sync"], "0042_europ", ACTOR),
        (["audit"], "0042_europ", ACTOR),
        (["history"], "0042_europ", ACTOR),
        (["restore"], "0042_europ", ACTOR),
        (["clean"], "0042_europ", ACTOR),
        (["restore"], "0047_mixed", MIXED),
        (["history"], "0047_mixd_28_male", MIXED),  # a letter left out: difflib's
        (["clean"], "0047_mixed_82_male", MIXED),  # the right id, the rest wrong
    ],
)
def test_every_command_answers_an_unknown_actor_with_did_you_mean(
    world: World, capsys: pytest.CaptureFixture[str], command: list[str], typo: str, meant: str
) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_s3(MIXED, "b.bin", b"b")  # only in S3: the hint asks the bucket too
    code = main([*command, typo, *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"trainsync: unknown actor {typo!r}: no folder data/actors/{typo}/"), err
    assert f"did you mean {meant!r}? check the name and --root" in err, err


def test_history_of_a_known_actor_never_synced_prints_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_s3(MIXED, "b.bin", b"b")
    assert main(["history", MIXED, *world.cli_flags()]) == 0
    assert capsys.readouterr() == ("", "")


def test_history_without_a_bucket_still_answers_a_typo_from_the_local_folders(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    code = main(["history", "0042_europ", "--root", str(world.root)])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown actor '0042_europ'" in err and f"did you mean {ACTOR!r}?" in err, err


def _in_sync(world: World, *paths: str) -> None:
    for path in paths:
        world.put_local(ACTOR, path, path.encode())
        world.put_s3(ACTOR, path, path.encode())
    world.write_manifest(ACTOR, {p: p.encode() for p in paths})


def test_an_only_that_matches_no_file_is_an_error_naming_the_nearest_paths(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _in_sync(world, "session_01/a.wav", "session_02/b.wav", "notes.txt")
    world.put_local(ACTOR, "session_03/c.wav", b"new")
    code = main(["sync", ACTOR, "--only", "sesion_*/*", "--no-progress", *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    assert err == (
        f"trainsync: --only 'sesion_*/*' (nearest: 'session_01/a.wav', 'session_02/b.wav', "
        f"'session_03/c.wav') matches no file of {ACTOR} locally, in S3 or in its manifest; "
        "check the pattern (paths are relative to training_data/)\n"
    )
    assert "session_03/c.wav" not in world.s3_paths(ACTOR)
    assert main(["history", "--json", *world.cli_flags()]) == 0
    assert json.loads(capsys.readouterr().out) == []  # refused before it ran: not a run


def test_an_only_matching_files_already_in_sync_is_nothing_to_do(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _in_sync(world, "session_01/a.wav")
    world.put_local(ACTOR, "other/new.bin", b"new")
    code = main(["sync", ACTOR, "--only", "session_*", "--no-progress", *world.cli_flags()])
    assert code == 0
    assert capsys.readouterr().out == f"{ACTOR}: done: nothing to do\n"
    assert world.s3_paths(ACTOR) == ["session_01/a.wav"]


def test_an_exclude_that_matches_nothing_stops_before_anything_moves(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "raw/big.bin", b"raw")
    world.put_local(ACTOR, "clean/a.bin", b"a")
    code = main(["sync", ACTOR, "--exclude", "raws", "--json", *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 2
    message = json.loads(out)["error"]
    assert message.startswith("--exclude 'raws' (nearest: 'raw/'"), message
    assert err == f"trainsync: {message}\n"
    assert world.s3_paths(ACTOR) == []


def test_a_dry_run_with_a_mistyped_only_fails_too(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "images/a.png", b"a")
    code = main(["sync", ACTOR, "--only", "imgs/", "--dry-run", *world.cli_flags()])
    err = capsys.readouterr().err
    assert code == 2
    assert "--only 'imgs/' (nearest: 'images/')" in err, err


def test_with_all_a_pattern_must_match_in_some_actor(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "images/a.png", b"a")
    world.put_local(MIXED, "audio/b.wav", b"b")
    flags = [*world.cli_flags(), "--no-progress"]
    # Fits one actor only: fine, the other has nothing to do.
    assert main(["sync", "--all", "--only", "images/*", *flags]) == 0
    assert world.s3_paths(ACTOR) == ["images/a.png"] and world.s3_paths(MIXED) == []
    capsys.readouterr()

    code = main(["sync", "--all", "--only", "audoi/*", *flags])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{MIXED}: done: nothing to do" in out  # each actor's report still printed
    assert err == (
        "trainsync: --only 'audoi/*' matches no file of any actor; nearest: 'audio/b.wav'; "
        "check the pattern (paths are relative to training_data/)\n"
    )
    assert world.s3_paths(MIXED) == []
