"""kill -9 of the CLI and cancels through the engine's API at chosen moments of a sync."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import World
from tests.reliability.crashes import CANCEL_POINTS, PHASES, cancel_once, kill_once, pad_manifest
from tests.reliability.rig import Expected
from tests.s3server import S3Server


def test_kill_9_in_every_phase_leaves_a_consistent_state_and_the_next_sync_converges(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    rng = random.Random(2026)
    expected = Expected()
    pad_manifest(world)
    runs = [
        kill_once(world, tmp_path, s3_server.port, expected, rng, phase, f"{n}{phase[0]}")
        for n in range(2)
        for phase in PHASES
    ]

    for run in runs:
        assert run.problems == [], run.phase
        assert run.outside == 0 and run.converged and run.leaks == []
    landed = {run.phase for run in runs if run.hit}
    assert landed == set(PHASES), [(r.phase, r.hit) for r in runs]


def test_cancel_through_the_api_at_any_point_leaves_a_consistent_state(world: World) -> None:
    rng = random.Random(7)
    expected = Expected()
    runs = [
        cancel_once(world, expected, rng, point, f"c{i}")
        for i, point in enumerate(CANCEL_POINTS + CANCEL_POINTS[1:3])
    ]

    for run in runs:
        assert run.problems == [], run.phase
        assert run.outside == 0 and run.converged and run.leaks == []
    assert sum(run.hit for run in runs) >= 4, [(r.phase, r.hit) for r in runs]
