"""Credentials and signatures never reach logs, history, reports or error messages.

The fault and crash tests check every output of their runs for the secrets too; here a
careless server echoes the whole signed request (session token, signature) in its errors.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.rig import (
    ACTOR,
    SESSION_TOKEN,
    cli_env,
    history_text,
    leaked_secrets,
    run_cli,
)
from tests.s3server import S3Server
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX


def echo_request(request: Request) -> str:
    """What a careless S3-compatible server puts in an error: the request it refused."""
    headers = "; ".join(f"{k}={v}" for k, v in request.headers)
    return f"refused {request.method} {request.target} with {headers}"


def object_transfer(request: Request) -> bool:
    if request.target.partition("?")[0].endswith(LEASE_SUFFIX):
        return False  # the actor's lease is taken before the audit, not a transfer
    return request.method == "PUT" or (request.method == "GET" and "?" not in request.target)


def run_echoing(world: World, port: int, base: Path, only_transfers: bool):
    world.put_local(ACTOR, "up.bin", b"up")
    world.put_s3(ACTOR, "down.bin", b"down")
    applies = object_transfer if only_transfers else None
    with FaultProxy(port, {"error500": 1.0}, applies=applies, message=echo_request) as proxy:
        done = run_cli(world, cli_env(world, base), "-v", endpoint=proxy.url)
    assert proxy.counts["error500"] >= 2
    assert done.returncode in (1, 2), done
    return json.loads(done.stdout), done


def test_a_run_stopping_error_from_an_echoing_server_leaks_nothing(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    report, done = run_echoing(world, s3_server.port, tmp_path, only_transfers=False)

    # The echo did reach the message (the first request is the GET of the actor's lease).
    assert "refused GET" in report["error"]
    assert (
        leaked_secrets(
            {"stdout": done.stdout, "stderr": done.stderr, "history": history_text(world)}
        )
        == []
    )


def test_per_path_errors_from_an_echoing_server_leak_nothing(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    report, done = run_echoing(world, s3_server.port, tmp_path, only_transfers=True)

    assert len(report["errors"]) == 2 and "refused" in report["errors"][0]
    assert SESSION_TOKEN not in json.dumps(report)
    assert (
        leaked_secrets(
            {"stdout": done.stdout, "stderr": done.stderr, "history": history_text(world)}
        )
        == []
    )
