"""Two processes syncing one actor, and files changing under an upload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import World
from tests.reliability.concurrency import (
    ConcurrencyRun,
    two_processes,
    two_roots,
    written_while_uploading,
)
from tests.s3server import S3Server


@pytest.mark.parametrize("wait", [False, True], ids=["refuse", "wait"])
@pytest.mark.parametrize(
    ("runs", "seed", "refused", "by_lease"),
    [(two_processes, 5, 2, False), (two_roots, 7, 1, True)],
    ids=["one root", "two roots on one bucket"],
)
def test_two_syncs_of_one_actor_never_run_at_once(
    world: World,
    s3_server: S3Server,
    tmp_path: Path,
    runs: Callable[..., ConcurrencyRun],
    seed: int,
    refused: int,
    by_lease: bool,
    wait: bool,
) -> None:
    run = runs(world, tmp_path, s3_server.port, seed=seed, wait=wait)

    assert run.problems == []
    if not wait:
        assert len(run.refusals) == refused
        for message in run.refusals:
            assert message.startswith("0042_european_30_male is already being synced by ")
            assert "or pass --wait" in message
            # One root's flock turns the second run away before it asks S3 for the lease.
            assert ("(lease s3://" in message) == by_lease, message


def test_files_written_while_uploading_are_never_recorded_with_a_stale_md5(
    world: World, s3_server: S3Server
) -> None:
    run = written_while_uploading(world, s3_server.port, seed=11)

    assert run.caught >= 2, "no upload raced a writer: the test proved nothing"
    assert run.problems == []
    assert run.converged
