"""Network and server faults between boto3 and S3 (the fault proxy on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import World
from tests.reliability.faults import light_faults_run, total_failure_run
from tests.s3server import S3Server


def test_sync_of_hundreds_of_files_under_light_faults_verifies_every_file(
    world: World, s3_server: S3Server
) -> None:
    run = light_faults_run(world, s3_server.port, seed=4)

    assert run.injected["requests"] > 250, run.injected
    assert sum(run.injected[k] for k in ("error500", "slowdown", "reset", "cut")) >= 8
    assert run.errors == []
    assert run.problems == []
    assert run.leaks == []
    assert run.converged


@pytest.mark.parametrize("only_transfers", [False, True], ids=["every request", "transfers"])
def test_total_failure_fails_cleanly_and_the_next_sync_converges(
    world: World, s3_server: S3Server, tmp_path: Path, only_transfers: bool
) -> None:
    run = total_failure_run(world, tmp_path, s3_server.port, seed=9, only_transfers=only_transfers)

    assert run.injected["error500"] >= 6  # botocore retried before giving up
    assert run.problems == []
    assert run.leaks == []
    assert all("InternalError" in e or "S3" in e for e in run.errors), run.errors


def test_lost_reply_to_a_conditional_put_is_not_an_error(world: World, s3_server: S3Server) -> None:
    from tests.reliability.faultproxy import FaultProxy, Request
    from tests.reliability.faults import engine_sync
    from tests.reliability.rig import ACTOR, md5

    files = {f"f{i}.bin": bytes([i]) * 1000 for i in range(3)}
    for path, data in files.items():
        world.put_local(ACTOR, path, data)
    seen: set[str] = set()

    def first_put_of_each_key(request: Request) -> bool:
        if request.method != "PUT":
            return False  # a GET of the key (the lease is read first) is not its first PUT
        fresh = request.target not in seen
        seen.add(request.target)
        return fresh

    with FaultProxy(s3_server.port, {"reset_after": 1.0}, applies=first_put_of_each_key) as proxy:
        report, _ = engine_sync(world, proxy.url)

    # The lease's create lost its reply too: the retry finds the lease and sees it is its own.
    assert proxy.counts["reset_after"] == len(files) + 1
    assert world.s3_paths(ACTOR) == sorted(files)
    assert report.errors == []
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}


def test_heavy_faults_leave_nothing_corrupt_and_the_next_sync_converges(
    world: World, s3_server: S3Server
) -> None:
    from tests.reliability.faults import heavy_faults_run

    run = heavy_faults_run(world, s3_server.port, seed=12)

    assert sum(run.injected[k] for k in ("error500", "slowdown", "reset", "cut")) >= 50
    assert run.problems == []
    assert run.leaks == []
