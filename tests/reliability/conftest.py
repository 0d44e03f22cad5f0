"""Every reliability test runs with distinctive credentials, so a leak is a substring match;
`each_point` runs a scenario at each of its points and checks that every run ended clean."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.reliability.rig import SECRET_KEY, SESSION_TOKEN, run_points
from tests.s3server import S3Server


@pytest.fixture(autouse=True)
def distinctive_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)


EachPoint = Callable[[Callable[..., Any], Sequence[Any], int, str], list[Any]]


@pytest.fixture
def each_point(world: World, s3_server: S3Server, tmp_path: Path) -> EachPoint:
    """`(once, points, seed, tag)` → the runs of `once` at each point on the test's world
    (rig.run_points), each asserted clean: no problem, nothing changed outside the actor's
    folder, no secret leaked, converged."""

    def run(once: Callable[..., Any], points: Sequence[Any], seed: int, tag: str) -> list[Any]:
        rng = random.Random(seed)
        found = run_points(once, points, world, tmp_path, s3_server.port, rng, tag)
        runs = [run for _point, run in found]
        for run in runs:
            assert run.problems == [], run.point
            assert run.outside == 0 and run.leaks == [] and run.converged, run.point
        return runs

    return run
