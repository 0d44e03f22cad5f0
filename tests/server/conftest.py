"""The real API server on a free 127.0.0.1 port (its own event loop in a thread) and a client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import AWS_ENV, World
from tests.s3server import free_port
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.facade import Engine
from trainsync_tui.server.app import make_app

SYNC_PATH = "/api/actors/{id}/training-data/comprehensive-sync"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        """The one-line error of a refused request (asserts the shape)."""
        data = self.json
        assert set(data) == {"error"}, data
        assert isinstance(data["error"], str) and data["error"]
        assert "\n" not in data["error"] and "Traceback" not in data["error"]
        return data["error"]


@dataclass
class Api:
    """An HTTP/1.1 client over a real socket; remembers every body it received."""

    port: int
    engine: Engine
    token: str | None = None
    bodies: list[bytes] = field(default_factory=list)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            data = raw if raw is not None else None if body is None else json.dumps(body).encode()
            sent = self.headers(headers) if auth else dict(headers or {})
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            reply = Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()
        self.bodies.append(reply.body)
        return reply

    def sync(self, actor: str, actor_id: str | None = None, **fields: Any) -> Reply:
        actor_id = actor_id if actor_id is not None else actor.split("_")[0]
        return self.call("POST", SYNC_PATH.format(id=actor_id), {"actor_name": actor, **fields})

    def open_stream(self, actor: str, **fields: Any) -> tuple[Any, Any]:
        """POST with Accept: application/x-ndjson; returns (connection, response) to read."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        body = json.dumps({"actor_name": actor, **fields}).encode()
        headers = self.headers({"Accept": "application/x-ndjson"})
        conn.request("POST", SYNC_PATH.format(id=actor.split("_")[0]), body, headers)
        return conn, conn.getresponse()


class ServerThread:
    """make_app served by aiohttp on 127.0.0.1:0 from a thread running its own loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def start(self) -> int:
        self.thread.start()

        async def up() -> int:
            self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=30)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", 0).start()
            return int(self.runner.addresses[0][1])

        return asyncio.run_coroutine_threadsafe(up(), self.loop).result(30)

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


ApiFactory = Callable[..., Api]


@pytest.fixture
def start_api(world: World) -> Iterator[ApiFactory]:
    """Start a server: start_api(token=None, **settings_changes) -> Api."""
    servers: list[ServerThread] = []

    def start(token: str | None = None, **changes: Any) -> Api:
        settings: Settings = replace(world.settings, **changes)
        engine = Engine(settings, who="trainsync serve")
        server = ServerThread(make_app(engine, token))
        servers.append(server)
        return Api(server.start(), engine, token)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(start_api: ApiFactory) -> Api:
    return start_api()


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll a condition another thread or process makes true (no event crosses that line)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's AWS keys and no config of the machine, for a trainsync subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINSYNC_", "AWS_"))}
    env.update(AWS_ENV)
    env.update(
        TRAINSYNC_CONFIG=str(tmp_path / "no-user-config.toml"),
        TRAINSYNC_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        **extra,
    )
    return env


def trainsync(*args: str) -> list[str]:
    return [sys.executable, "-m", "trainsync_tui", *args]


def start_process(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start a `serve`/`web` subprocess and wait for its banner line (the URL it listens on)."""
    # A session of its own: the apps `trainsync web` starts are in its process group, so a
    # test can check that none outlives the server and kill any that would.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()  # blocks until listening, or "" when it died
    if not banner:
        _out, err = proc.communicate(timeout=30)
        raise AssertionError(f"exited {proc.returncode} before listening: {err}")
    return proc, banner


def group_alive(pgid: int) -> bool:
    """Whether any process of the group (a server and the apps it started) is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class WebProcess:
    """`trainsync web` as the user runs it, in a session of its own (its apps join it)."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> tuple[str, str]:
        """Ctrl-C; returns its output (stdout, stderr) once it and every app it started are gone."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        # The apps it started for browser tabs end with it (the group is empty once the
        # last one has exited; each gets a few seconds to stop cleanly).
        deadline = time.monotonic() + 15
        while group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling process exit, not test synchronisation
        assert not group_alive(self.proc.pid), "an app outlived trainsync web"
        return out, err


WebFactory = Callable[..., WebProcess]


@pytest.fixture
def start_web(world: World, tmp_path: Path) -> Iterator[WebFactory]:
    """Start `trainsync web` on a free port (env: extra variables); all are ended after the test."""
    started: list[WebProcess] = []

    def start(**env: str) -> WebProcess:
        port = free_port()
        proc, banner = start_process(
            trainsync("web", "--port", str(port), *world.cli_flags()),
            subprocess_env(tmp_path, **env),
        )
        assert f"the app on http://127.0.0.1:{port}/" in banner
        started.append(WebProcess(proc, port))
        return started[-1]

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.communicate(timeout=30)
        kill_group(process.proc.pid)  # never leave an app running after the test
