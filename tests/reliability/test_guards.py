"""Issue 22's guards through the real CLI, one randomized run of each (soak form)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import World
from tests.engine.nanio_world import (  # noqa: F401 (fixtures)
    nanio_fixture,
    nanio_world_fixture,
)
from tests.reliability.guards import CASES, GuardRun, run_case
from tests.s3server import S3Server
from trainsync_tui.bench.server import NanioServer


def _check(run: GuardRun) -> None:
    if run.skipped:
        pytest.skip(run.skipped)
    assert run.hit, f"{run.case} ({run.variant}): the fault or kill did not land"
    assert run.problems == [], run.variant
    assert run.outside == 0 and run.leaks == [] and run.converged


@pytest.mark.parametrize("case", [c for c in CASES if c != "unverifiable"])
def test_each_guard_holds_under_kill_and_faults(
    case: str, world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    _check(run_case(case, world, tmp_path, s3_server.port, random.Random(case), "g"))


def test_an_unverifiable_object_killed_and_tampered_is_fetched_again(
    nanio_world: World, nanio: NanioServer, tmp_path: Path
) -> None:
    run = run_case(
        "unverifiable", nanio_world, tmp_path, nanio.port, random.Random(22), "g",
        nanio_env=nanio.client_env(),
    )  # fmt: skip
    _check(run)
