"""What `--help` and `--version` tell a new user, and the hint for a mistyped actor (issue 16)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from trainsync_tui import __version__
from trainsync_tui.cli import build_parser, main


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"trainsync": parser, **sub.choices}


def test_version_prints_the_package_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trainsync_tui", "--version"], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done
    assert done.stdout.decode() == f"trainsync {__version__}\n"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_has_help_and_says_its_default(name: str) -> None:
    for action in subcommands()[name]._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name} {label} has no help"
        if action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in action.help, f"{name} {label}: the help hides its default"


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"], ["audit", "--help"]])
def test_help_lists_the_exit_codes(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for line in ("  0 ", "  1 ", "  2 ", "  130 "):
        assert line in out, line


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("0042_europan_30_male", ACTOR),  # a typo of a local actor
        ("0042", ACTOR),  # the id alone
        ("0043_s3_onyl", "0043_s3_only"),  # a typo of an actor that is only in S3
    ],
)
def test_an_unknown_actor_suggests_the_closest_name(
    world: World, capsys: pytest.CaptureFixture[str], typed: str, meant: str
) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_s3("0043_s3_only", "b.bin", b"b")
    code = main(["sync", typed, *world.cli_flags()])
    err = capsys.readouterr().err
    assert code == 2
    assert f"unknown actor {typed!r}" in err
    assert f"did you mean {meant!r}? check the name and --root" in err


def test_no_suggestion_for_a_name_like_no_actor(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    assert main(["audit", "9999_someone_else", *world.cli_flags()]) == 2
    assert "did you mean" not in capsys.readouterr().err
