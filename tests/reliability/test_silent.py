"""Syncs and audits against an S3 endpoint that never answers (issue 14 item 6, soak form)."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import World
from tests.reliability.rig import run_points
from tests.reliability.silent import DEADLINE, DEADLINE_SLACK, POINTS, STOP_LIMIT, silent_once
from tests.s3server import S3Server


def test_a_silent_endpoint_ends_every_run_by_its_deadline_or_its_signal_and_loses_nothing(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    rng = random.Random(14)
    points = run_points(silent_once, POINTS, world, tmp_path, s3_server.port, rng, "s")
    runs = [run for _point, run in points]

    for run in runs:
        assert run.problems == [], run.point
        assert run.hangs == 0 and run.outside == 0 and run.leaks == [] and run.converged
    stopped = [r.seconds for r, p in zip(runs, POINTS, strict=True) if p[2] != "deadline"]
    ended = [r.seconds for r, p in zip(runs, POINTS, strict=True) if p[2] == "deadline"]
    assert max(stopped) <= STOP_LIMIT and min(ended) >= DEADLINE
    assert max(ended) <= DEADLINE + DEADLINE_SLACK
