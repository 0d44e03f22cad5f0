"""What a server does not do is said in one line, once per run, with the why behind
--debug (issue 25 item 6: the "ignores If-None-Match" warning took 4-5 lines on every run
and filled the app's log pane; a server without upload listing warned once per actor)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import World
from tests.engine.test_lease import RefusesConditions
from tests.s3server import S3Server
from tests.sseproxy import SseProxy
from tests.test_cli_interrupt import run_env

ACTORS = ("0042_european_30_male", "0043_asian_40_female")


def sync_all(world: World, tmp_path: Path, endpoint: str, *extra: str) -> list[str]:
    """stderr of a real `trainsync sync --all` of two actors with a file to upload each."""
    for actor in ACTORS:
        world.put_local(actor, "a.bin", actor.encode())
    command = [sys.executable, "-m", "trainsync_tui", "sync", "--all", "--no-progress"]
    command += ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", endpoint]
    done = subprocess.run(
        [*command, *extra],
        env=run_env(world, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_a_server_refusing_conditions_is_one_short_line_and_debug_says_why(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    with RefusesConditions(s3_server.port) as proxy:
        lines = sync_all(world, tmp_path, proxy.url)
        (warning,) = [line for line in lines if line.startswith("warning:")]
        assert "refuses conditional writes" in warning
        assert len(warning) <= 140, warning  # one line of a terminal, not five
        assert warning.endswith("(--debug: why)")
        assert not any(line.startswith("detail:") for line in lines)

        for actor in ACTORS:  # a second run, with --debug: the same line and its detail
            world.put_local(actor, "b.bin", b"more")
        debug = sync_all(world, tmp_path, proxy.url, "--debug")
    assert len([line for line in debug if line.startswith("warning:")]) == 1
    (detail,) = [line for line in debug if line.startswith("detail:")]
    assert "refuses conditional writes" in detail and "read-then-write" in detail


def test_a_server_without_upload_listing_warns_once_per_run_not_per_actor(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    with SseProxy(s3_server.port, sse=False, list_uploads=False) as proxy:
        lines = sync_all(world, tmp_path, proxy.url)
    warnings = [line for line in lines if "unfinished multipart uploads" in line]
    assert len(warnings) == 1, lines
    assert len(warnings[0]) <= 140, warnings
