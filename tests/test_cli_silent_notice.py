"""A silent S3 is named on stderr within seconds, not only when the deadline fails the run
(issue 25 item 2): "trainsync: waiting for S3 at <endpoint> (2 s, deadline N s)…", never on
stdout, so --json stays one object; an S3 that answers is never called silent."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AWS_ENV, World
from tests.silent_s3 import SilentEndpoint, silent_endpoint
from trainsync_tui.engine.s3.request_guard import Silence
from trainsync_tui.s3_wait_notice import S3WaitNotice

ACTOR = "0042_quiet"


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    with silent_endpoint() as endpoint:
        yield endpoint


def run_cli(
    flags: list[str], tmp_path: Path, *args: str, deadline: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINSYNC_", "AWS_"))}
    env.update(
        AWS_ENV,
        TRAINSYNC_CONFIG=str(tmp_path / "no-user-config.toml"),
        TRAINSYNC_CACHE_DIR=str(tmp_path / "cache"),
        TRAINSYNC_REQUEST_DEADLINE=deadline,
        TRAINSYNC_READ_TIMEOUT="1",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "trainsync_tui", *args, *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return proc, time.monotonic() - started


def test_audit_json_names_a_silent_s3_on_stderr_before_the_deadline_fails_it(
    silent: SilentEndpoint, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "data" / "actors" / ACTOR / "training_data").mkdir(parents=True)
    flags = ["--root", str(root), "--bucket", "hung", "--endpoint-url", silent.url]
    proc, took = run_cli(flags, tmp_path, "audit", ACTOR, "--json", deadline="6")

    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    waiting = [line for line in lines if line.startswith("trainsync: waiting for S3 at ")]
    assert waiting, lines
    assert waiting[0] == f"trainsync: waiting for S3 at {silent.url} (2 s, deadline 6 s)…"
    assert len(waiting) <= 3  # 2, 4 s: sparse, not one a second
    assert "did not answer" in lines[-1] and lines.index(waiting[0]) < len(lines) - 1
    assert json.loads(proc.stdout).keys() == {"error"}  # stdout: the one JSON object
    assert took < 30


def test_sync_against_a_live_s3_says_nothing_of_waiting(world: World, tmp_path: Path) -> None:
    world.put_local(ACTOR, "a.bin", b"a" * 100)
    proc, _ = run_cli(world.cli_flags(), tmp_path, "sync", ACTOR, deadline="60")
    assert proc.returncode == 0, proc.stderr
    assert "waiting for S3" not in proc.stderr


def test_the_notice_repeats_as_the_wait_doubles_and_resets_when_s3_answers() -> None:
    waits: list[Silence | None] = []
    out = io.StringIO()
    notice = S3WaitNotice(stream=out, silence=lambda: waits[-1])
    for waited in (0.5, 1.9, 2.1, 3.0, 4.2, 7.9, 8.0):
        waits.append(Silence("http://s3.example", waited, 60.0))
        notice.check()
    waits.append(None)  # S3 answered
    notice.check()
    waits.append(Silence("http://s3.example", 2.0, 60.0))
    notice.check()
    assert out.getvalue().splitlines() == [
        "trainsync: waiting for S3 at http://s3.example (2 s, deadline 60 s)…",
        "trainsync: waiting for S3 at http://s3.example (4 s, deadline 60 s)…",
        "trainsync: waiting for S3 at http://s3.example (8 s, deadline 60 s)…",
        "trainsync: waiting for S3 at http://s3.example (2 s, deadline 60 s)…",
    ]
