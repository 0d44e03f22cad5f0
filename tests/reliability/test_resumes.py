"""kill -9 mid multipart upload and mid big download, then a rerun that resumes; the file or
the object changed in between starts again, never mixed (issue 17, soak form)."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import World
from tests.reliability.resumes import POINTS, resume_once
from tests.reliability.rig import run_points
from tests.s3server import S3Server


def test_reruns_after_kill_9_resume_and_never_complete_a_mix_of_old_and_new_bytes(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    rng = random.Random(17)
    points = run_points(resume_once, POINTS, world, tmp_path, s3_server.port, rng, "r")
    runs = [run for _point, run in points]

    for run in runs:
        assert run.problems == [], run.point
        assert run.mixed == 0 and run.outside == 0 and run.leaks == [] and run.converged
    assert all(run.hit for run in runs), [(r.point, r.hit) for r in runs]
    resumed = {run.point: run.resumed for run in runs if run.resumable}
    assert len(resumed) == 2 and all(n > 0 for n in resumed.values()), resumed
