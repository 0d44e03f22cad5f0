"""Syncs and audits against an S3 endpoint that never answers (issue 14 item 6, soak form)."""

from __future__ import annotations

from tests.reliability.conftest import EachPoint
from tests.reliability.silent import DEADLINE, DEADLINE_SLACK, POINTS, STOP_LIMIT, silent_once


def test_a_silent_endpoint_ends_every_run_by_its_deadline_or_its_signal_and_loses_nothing(
    each_point: EachPoint,
) -> None:
    runs = each_point(silent_once, POINTS, 14, "s")

    assert all(run.hangs == 0 for run in runs), [(r.point, r.hangs) for r in runs]
    stopped = [r.seconds for r, p in zip(runs, POINTS, strict=True) if p[2] != "deadline"]
    ended = [r.seconds for r, p in zip(runs, POINTS, strict=True) if p[2] == "deadline"]
    assert max(stopped) <= STOP_LIMIT and min(ended) >= DEADLINE
    assert max(ended) <= DEADLINE + DEADLINE_SLACK
