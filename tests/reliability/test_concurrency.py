"""Two processes syncing one actor, and files changing under an upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import World
from tests.reliability.concurrency import two_processes, two_roots, written_while_uploading
from tests.s3server import S3Server


@pytest.mark.parametrize("wait", [False, True], ids=["refuse", "wait"])
def test_two_syncs_of_one_actor_never_run_at_once(
    world: World, s3_server: S3Server, tmp_path: Path, wait: bool
) -> None:
    run = two_processes(world, tmp_path, s3_server.port, seed=5, wait=wait)

    assert run.problems == []
    if not wait:
        assert len(run.refusals) == 2
        assert all("0042_european_30_male is already being synced by" in m for m in run.refusals)


def test_files_written_while_uploading_are_never_recorded_with_a_stale_md5(
    world: World, s3_server: S3Server
) -> None:
    run = written_while_uploading(world, s3_server.port, seed=11)

    assert run.caught >= 2, "no upload raced a writer: the test proved nothing"
    assert run.problems == []
    assert run.converged


@pytest.mark.parametrize("wait", [False, True], ids=["refuse", "wait"])
def test_two_roots_on_one_bucket_never_sync_one_actor_at_once(
    world: World, s3_server: S3Server, tmp_path: Path, wait: bool
) -> None:
    run = two_roots(world, tmp_path, s3_server.port, seed=7, wait=wait)

    assert run.problems == []
    if not wait:
        (message,) = run.refusals
        assert message.startswith("0042_european_30_male is already being synced by ")
        assert "(lease s3://" in message and "or pass --wait" in message
