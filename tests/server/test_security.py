"""Loopback by default, a bearer token otherwise, no credentials in answers or logs."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AWS_ENV, World
from tests.engine.clitools import ACTOR
from tests.s3server import free_port
from tests.server.conftest import (
    ApiFactory,
    start_process,
    subprocess_env,
    trainsync,
    wait_until,
)
from tests.server.test_api_sync import SEED_COUNTS, prepare_seed_actor
from trainsync_tui.engine.errors import ConfigError
from trainsync_tui.server.auth import resolve_token

TOKEN = "s3cr3t-t0ken-for-tests"


def test_once_a_token_is_set_every_request_needs_it(
    world: World, start_api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trainsync")  # our logs (botocore's are its own)
    prepare_seed_actor(world)
    api = start_api(token=TOKEN)
    sync = "/api/actors/0042/training-data/comprehensive-sync"

    refused = [
        api.call("GET", "/api/actors", auth=False),
        api.call("POST", sync, {"actor_name": ACTOR}, auth=False),
        api.call("GET", "/api/actors", headers={"Authorization": "Bearer wrong"}, auth=False),
        api.call("GET", "/api/actors", headers={"Authorization": TOKEN}, auth=False),
        api.call("GET", "/api/nothing", auth=False),
    ]
    assert world.local_paths(ACTOR) and world.s3_paths(ACTOR) != world.local_paths(ACTOR)
    for reply in refused:
        assert reply.status == 401, reply.body
        assert "Authorization: Bearer" in reply.error
        assert reply.headers["WWW-Authenticate"] == "Bearer"

    listed = api.call("GET", "/api/actors")
    synced = api.call("POST", sync, {"actor_name": ACTOR})
    assert listed.status == 200 and synced.status == 200
    assert {k: synced.json[k] for k in SEED_COUNTS} == SEED_COUNTS
    api.call("GET", "/api/actors/0042/training-data/audit?actor_name=../x")
    api.call("GET", "/api/actors/0042/training-data/sync-history")

    secrets = [TOKEN, AWS_ENV["AWS_SECRET_ACCESS_KEY"], AWS_ENV["AWS_ACCESS_KEY_ID"]]
    for body in api.bodies:
        assert not any(s.encode() in body for s in secrets), body
    assert not any(s in caplog.text for s in secrets)


def test_without_a_token_a_page_from_another_site_is_refused(
    world: World, start_api: ApiFactory
) -> None:
    prepare_seed_actor(world)
    api = start_api()
    before = world.local_paths(ACTOR)

    csrf = api.call(  # what a form on a page from another site would send
        "POST",
        "/api/actors/0042/training-data/comprehensive-sync",
        {"actor_name": ACTOR, "delete_orphans": True, "force": True},
        headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
    )
    rebinding = api.call("GET", "/api/actors", headers={"Host": "evil.example"})
    same_origin = api.call(
        "GET", "/api/actors?audit=0", headers={"Origin": f"http://127.0.0.1:{api.port}"}
    )

    assert csrf.status == 403 and "cross-origin" in csrf.error
    assert rebinding.status == 403 and "not a loopback name" in rebinding.error
    assert same_origin.status == 200
    assert world.local_paths(ACTOR) == before


@pytest.mark.parametrize("command", ["serve", "web"])
def test_a_non_loopback_bind_without_a_token_refuses_to_start(
    world: World, tmp_path: Path, command: str
) -> None:
    # Never listens: the check comes before the socket is opened.
    done = subprocess.run(
        trainsync(command, "--host", "0.0.0.0", "--port", str(free_port()), *world.cli_flags()),
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=60,
    )

    assert done.returncode == 2, done
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "refusing to serve on 0.0.0.0 without a token" in lines[0]
    assert "--token" in lines[0] and "TRAINSYNC_API_TOKEN" in lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "gpu-07.example", "[::]"])
def test_every_non_loopback_address_needs_a_token(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=f"refusing to serve on {re.escape(host)}"):
        resolve_token(host, None)
    assert resolve_token(host, TOKEN) == TOKEN
    monkeypatch.setenv("TRAINSYNC_API_TOKEN", "from-env")
    assert resolve_token(host, None) == "from-env"
    assert resolve_token(host, TOKEN) == TOKEN  # the flag beats the variable


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert resolve_token(host, None) is None


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="token is empty"):
        resolve_token("127.0.0.1", " ")


def test_trainsync_serve_runs_with_the_token_from_the_environment_and_stops_on_ctrl_c(
    world: World, tmp_path: Path
) -> None:
    import http.client

    prepare_seed_actor(world)
    port = free_port()
    proc, banner = start_process(
        trainsync("serve", "--port", str(port), *world.cli_flags()),
        subprocess_env(tmp_path, TRAINSYNC_API_TOKEN=TOKEN),
    )
    try:
        assert f"listening on http://127.0.0.1:{port}" in banner
        assert "bearer token required" in banner and TOKEN not in banner

        def get(headers: dict[str, str]) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/actors?audit=0", headers=headers)
            response = conn.getresponse()
            result = response.status, response.read()
            conn.close()
            return result

        assert get({})[0] == 401
        status, body = get({"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and b"0042_european_30_male" in body
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert TOKEN not in out + err and AWS_ENV["AWS_SECRET_ACCESS_KEY"] not in out + err
    assert '"GET /api/actors?audit=0" 200' in err  # the access log, one line per request
    wait_until(lambda: proc.poll() is not None, "the server to exit")
