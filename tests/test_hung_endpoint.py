"""An S3 endpoint that accepts connections and never answers: the CLI gives up at the
configured deadline with one line, and Ctrl-C or SIGTERM stop it at once (issue 14 item 6)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import subprocess_env
from tests.silent_s3 import DroppingEndpoint, SilentEndpoint, silent_endpoint
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings, load_settings
from trainsync_tui.engine.errors import CancelledSync, ConfigError
from trainsync_tui.engine.facade import Engine

ACTOR = "0042_european_30_male"


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    with silent_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def audit() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts `trainsync audit`; whatever still runs when the test ends is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(root: Path, url: str, tmp_path: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(_audit(root, url, tmp_path, **kwargs))
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _audit(
    root: Path, url: str, tmp_path: Path, local: bool = True, **settings: str
) -> subprocess.Popen[bytes]:
    # Without a local folder the first request asks S3 whether the actor exists.
    actor = root / "data" / "actors" / (ACTOR if local else "")
    actor.mkdir(parents=True, exist_ok=True)
    env = subprocess_env(
        tmp_path, **{f"TRAINSYNC_{name.upper()}": value for name, value in settings.items()}
    )
    command = [sys.executable, "-m", "trainsync_tui", "audit", "0042", ACTOR]
    flags = ["--root", str(root), "--bucket", "hung", "--endpoint-url", url]
    return subprocess.Popen(
        [*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def test_audit_against_a_silent_endpoint_fails_at_the_deadline_with_one_line(
    silent: SilentEndpoint, audit: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    proc = audit(tmp_path / "root", silent.url, tmp_path, read_timeout="0.5", request_deadline="2")
    # Before: 7 attempts x 60 s read timeout, 423 s in all.
    out, err = proc.communicate(timeout=20)

    assert proc.returncode == 2, (out, err)
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("trainsync: the S3 endpoint " + silent.url), lines
    assert "did not answer ListObjectsV2 within 2 s (request_deadline" in lines[-1]
    assert b"Traceback" not in err
    assert silent.accepted >= 2  # it retried within the deadline, then gave up


@pytest.mark.parametrize(
    ("signum", "local"),
    [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGINT, False)],
    ids=["ctrl-c-listing", "sigterm-listing", "ctrl-c-actor-lookup"],
)
def test_a_signal_stops_a_request_the_endpoint_never_answers(
    silent: SilentEndpoint,
    audit: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
    signum: int,
    local: bool,
) -> None:
    # Default timeouts (a 20 s read timeout, a 60 s deadline): only the cancel can end it soon.
    proc = audit(tmp_path / "root", silent.url, tmp_path, local=local)
    assert silent.wait_for_connections(1), "the audit never connected"
    proc.send_signal(signum)
    # Before: the cancel waited for the read timeout and botocore's retries (minutes).
    out, err = proc.communicate(timeout=5)

    assert proc.returncode == 130, (out, err)
    assert b"cancelling" in err and b"Traceback" not in err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon", "3601"])
def test_a_timeout_setting_must_be_a_positive_number_of_seconds(tmp_path: Path, value: str) -> None:
    expected = f"TRAINSYNC_REQUEST_DEADLINE: request_deadline = '{value}'"
    with pytest.raises(ConfigError, match=expected):
        load_settings({"root": str(tmp_path)}, {"TRAINSYNC_REQUEST_DEADLINE": value})


def test_timeout_settings_reach_the_settings(tmp_path: Path) -> None:
    (tmp_path / "trainsync.toml").write_text("connect_timeout = 2\nread_timeout = 3.5\n")
    settings = load_settings({"root": str(tmp_path)}, {"TRAINSYNC_REQUEST_DEADLINE": "7"})
    assert (settings.connect_timeout, settings.read_timeout, settings.request_deadline) == (
        2.0,
        3.5,
        7.0,
    )


def test_a_cancel_interrupts_only_the_requests_of_its_own_run(
    silent: SilentEndpoint, tmp_path: Path
) -> None:
    """The server and the app run several audits on one Engine: one cancel stops one."""
    settings = Settings(root=tmp_path, bucket="hung", endpoint_url=silent.url, region="us-east-1")
    engine = Engine(settings)
    layout = engine.actor(ACTOR)
    first, second = CancelToken(), CancelToken()
    outcome: dict[str, BaseException] = {}

    def run(name: str, token: CancelToken) -> None:
        try:
            engine.require_actor(layout, token)
        except BaseException as exc:
            outcome[name] = exc

    threads = {
        name: threading.Thread(target=run, args=(name, token))
        for name, token in (("first", first), ("second", second))
    }
    try:
        for thread in threads.values():
            thread.start()
        assert silent.wait_for_connections(2)
        first.cancel()
        threads["first"].join(5)
        assert isinstance(outcome.get("first"), CancelledSync)
        assert threads["second"].is_alive() and "second" not in outcome
    finally:
        second.cancel()
        threads["second"].join(5)
        engine.close()
    assert isinstance(outcome.get("second"), CancelledSync)


def test_after_a_cancel_only_clean_up_reaches_s3_and_only_briefly(
    silent: SilentEndpoint, tmp_path: Path
) -> None:
    settings = Settings(root=tmp_path, bucket="hung", endpoint_url=silent.url, region="us-east-1")
    engine = Engine(settings)
    token = CancelToken()
    client = engine.client_for(token)
    token.cancel()
    try:
        # A worker that has not seen the cancel yet: refused before it connects.
        with pytest.raises(CancelledSync):
            client.list_objects_v2(Bucket="hung")
        assert silent.accepted == 0
        # An upload's abort is tried, and given up after a second (not request_deadline).
        with pytest.raises(ConfigError, match="did not answer AbortMultipartUpload within 1 s"):
            client.abort_multipart_upload(Bucket="hung", Key="k", UploadId="u")
        assert silent.accepted >= 1
    finally:
        engine.close()


def test_a_cancel_interrupts_a_connect_the_endpoint_never_completes(tmp_path: Path) -> None:
    dropping = DroppingEndpoint()
    settings = Settings(
        root=tmp_path,
        bucket="hung",
        endpoint_url=dropping.url,
        region="us-east-1",
        connect_timeout=60,
    )
    engine = Engine(settings)
    token = CancelToken()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            engine.require_actor(engine.actor(ACTOR), token)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while not dropping.connecting():  # the kernel's view: a SYN sent, no answer
            assert time.monotonic() < deadline and thread.is_alive(), outcome
            time.sleep(0.01)
        token.cancel()
        thread.join(5)  # before: connect_timeout (60 s here)
        assert not thread.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], CancelledSync), outcome
    finally:
        token.cancel()
        thread.join(70)
        engine.close()
        dropping.close()
