"""CLI output never fails on the terminal's encoding (issue 16, defect 4): a latin-1 stream
gets ASCII stand-ins for our punctuation and escapes for other characters; a terminal under
the C locale gets ASCII only; --json stays pure ASCII."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.test_cli_interrupt import run_env

KANA = "データ.bin"  # not in latin-1


def twelve_new_files(world: World) -> None:
    """More than the ten paths the audit lists per category: it ends with '… 2 more'."""
    for n in range(10):
        world.put_local(ACTOR, f"f{n:02d}.bin", bytes([n]))
    world.put_local(ACTOR, "café.bin", b"latin")
    world.put_local(ACTOR, KANA, b"kana")


def env_with(world: World, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = run_env(world, tmp_path)
    for name in ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "PYTHONUTF8", "PYTHONIOENCODING"):
        env.pop(name, None)
    env.update(extra)
    return env


def cli(world: World, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "trainsync_tui", *args, *world.cli_flags()]
    return subprocess.run(command, capture_output=True, env=env, timeout=120)


def test_a_latin_1_stream_gets_ascii_punctuation_and_never_a_traceback(
    world: World, tmp_path: Path
) -> None:
    twelve_new_files(world)
    env = env_with(world, tmp_path, LANG="C.UTF-8", PYTHONIOENCODING="latin-1")

    audit = cli(world, env, "audit", "--all")
    assert audit.returncode == 0, audit
    out = audit.stdout.decode("latin-1")
    assert "    ... 2 more (-v shows all)" in out
    verbose = cli(world, env, "audit", ACTOR, "-v").stdout.decode("latin-1")
    assert "    café.bin" in verbose  # latin-1 can show it: left alone
    assert "    \\u30c7\\u30fc\\u30bf.bin" in verbose  # it cannot: escaped, not a crash

    dry = cli(world, env, "sync", ACTOR, "--dry-run")
    assert dry.returncode == 0, dry
    assert f"{ACTOR}: dry run - would have: 12 uploaded" in dry.stdout.decode("latin-1")
    assert b"Traceback" not in audit.stderr + dry.stderr

    as_json = cli(world, env, "sync", ACTOR, "--dry-run", "--json")
    assert as_json.stdout.isascii()
    assert json.loads(as_json.stdout)["uploaded"] == 12

    missing = cli(world, env, "audit", "ghost…")
    assert missing.returncode == 2
    assert b"unknown actor 'ghost...'" in missing.stderr


def test_a_c_locale_pipe_gets_utf8_and_a_c_locale_terminal_gets_ascii(
    world: World, tmp_path: Path
) -> None:
    twelve_new_files(world)
    env = env_with(world, tmp_path, LANG="C", LC_ALL="C")

    piped = cli(world, env, "sync", ACTOR, "--dry-run")
    assert piped.returncode == 0, piped
    # Python writes UTF-8 under the C locale (PEP 540); a pipe (cron, a log file) keeps it.
    assert "dry run — would have" in piped.stdout.decode("utf-8")

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainsync_tui", "audit", ACTOR, *world.cli_flags()],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process has gone and the terminal is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0, shown
    assert shown.isascii(), shown
    assert b"    ... 2 more (-v shows all)" in shown
