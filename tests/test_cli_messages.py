"""Messages that end a run (issue 25 item 6): stdout's reader leaving (`| head`) is quiet,
as with git; a full disk and a read-only root name the path, what it is for and what to do.
The disks are real: a tmpfs of 64 KiB and a read-only bind mount in a mount namespace."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from trainsync_tui import commands
from trainsync_tui.cli import main

_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
# Filled to the last block before the run: the first write of the run meets ENOSPC.
_FULL = (
    'mount -t tmpfs -o size=64k tmpfs "$1" && dd if=/dev/zero of="$1/fill" bs=1k 2>/dev/null; '
    'shift; exec "$@"'
)


def _cli(world: World, *args: str) -> list[str]:
    return [sys.executable, "-m", "trainsync_tui", *args, *world.cli_flags()]


def _in_namespace(world: World, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`trainsync ARGS` after `script` has changed the root's mount, in a namespace of its own."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
         str(world.root), *_cli(world, *args)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    if run.returncode != 0 and (
        "unshare" in run.stderr.split(":", 1)[0] or "mount" in run.stderr.split(":", 1)[0]
    ):
        pytest.skip(f"no mount namespace here: {run.stderr.strip()}")
    return run


def _failed_sync(world: World, script: str) -> str:
    """The stderr of a sync of the actor after `script` changed the root's mount (exit 1)."""
    run = _in_namespace(world, script, "sync", ACTOR, "--no-progress")
    assert run.returncode == 1, run.stderr
    return run.stderr


def test_a_reader_that_leaves_is_not_an_error(world: World) -> None:
    """`trainsync audit ... | head -3`: the pipe's reader is gone before the first write (the
    read end is closed before the run starts, so no timing is involved)."""
    for i in range(30):
        world.put_local(ACTOR, f"f{i:02}.bin", b"x")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = subprocess.run(
            _cli(world, "audit", ACTOR, "-v"),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=dict(os.environ),
        )
    finally:
        os.close(write_end)
    assert run.stderr == ""  # was "trainsync: Broken pipe", exit 1
    assert run.returncode == 141  # what the shell reports for `git log | head`: 128 + SIGPIPE


def test_a_read_only_root_says_what_its_state_folder_is_for(world: World) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    assert _failed_sync(world, _READ_ONLY) == (
        f"trainsync: {world.root}/.trainsync: read-only file system; it is the root's state "
        "folder: each actor's lock, the sync history and leases, so a sync must write there; "
        "remount it read-write, or copy the data to a writable disk and use --root there\n"
    )  # was "trainsync: .../.trainsync: Read-only file system"


def test_a_full_disk_names_where_and_what_to_do(world: World) -> None:
    world.put_s3(ACTOR, "a.bin", b"a")
    assert _failed_sync(world, _FULL) == (
        f"trainsync: no space left on the device (writing under {world.root}); "
        "free some space there, or use --root on another disk\n"
    )  # was "trainsync: No space left on device"


def test_a_denied_path_says_whose_it_must_be(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # root passes every permission check, so the error is raised where the command runs.
    history = str(world.root / ".trainsync" / "history.jsonl")

    def denied(*_: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", history)

    monkeypatch.setattr(commands, "run_history_command", denied)
    assert main(["history", *world.cli_flags()]) == 1
    assert capsys.readouterr().err == (
        f"trainsync: {history}: permission denied; run trainsync as the user who owns the "
        f"root, or give that user write access (see: ls -ld {history})\n"
    )


@pytest.mark.parametrize(
    ("where", "what"),
    [
        (".trainsync/locks", "the root's state folder: each actor's lock, the sync history"),
        (f"data/actors/{ACTOR}/.trainsync/tmp", "an actor's work folder: temp files, trash"),
        (f"data/actors/{ACTOR}/training_data/a.bin", "a sync writes its files and state under"),
    ],
)
def test_a_read_only_path_says_what_is_written_there(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    what: str,
) -> None:
    path = str(world.root / where)

    def read_only(*_: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system", path)

    monkeypatch.setattr(commands, "run_history_command", read_only)
    assert main(["history", *world.cli_flags()]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"trainsync: {path}: read-only file system; "), err
    assert what in err and err.endswith("use --root there\n"), err


def test_a_broken_pipe_that_is_not_stdout_is_still_reported(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket's EPIPE (S3 hung up) is a failure, not a reader gone away."""

    def hung_up(*_: object) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(commands, "run_history_command", hung_up)
    assert main(["history", *world.cli_flags()]) == 1
    assert capsys.readouterr().err == "trainsync: Broken pipe\n"


def test_exit_status_141_is_documented() -> None:
    from trainsync_tui.cli import EXIT_CODES

    assert "141  stdout's reader went away (| head)" in EXIT_CODES
