"""kill -9 mid multipart upload and mid big download, then a rerun that resumes; the file or
the object changed in between starts again, never mixed (issue 17, soak form)."""

from __future__ import annotations

from tests.reliability.conftest import EachPoint
from tests.reliability.resumes import POINTS, resume_once


def test_reruns_after_kill_9_resume_and_never_complete_a_mix_of_old_and_new_bytes(
    each_point: EachPoint,
) -> None:
    runs = each_point(resume_once, POINTS, 17, "r")

    assert all(run.mixed == 0 for run in runs), [(r.point, r.mixed) for r in runs]
    assert all(run.hit for run in runs), [(r.point, r.hit) for r in runs]
    resumed = {run.point: run.resumed for run in runs if run.resumable}
    assert len(resumed) == 2 and all(n > 0 for n in resumed.values()), resumed
