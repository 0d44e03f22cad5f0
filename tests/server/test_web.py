"""`trainsync web` as a real process: the app's page over HTTP, the app over its websocket."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.s3server import free_port
from tests.server.conftest import (
    group_alive,
    kill_group,
    start_process,
    subprocess_env,
    trainsync,
)

TOKEN = "web-t0ken-for-tests"


class WebProcess:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> tuple[str, str]:
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


@pytest.fixture
def start_web(world: World, tmp_path: Path) -> Iterator[object]:
    started: list[WebProcess] = []

    def start(**env: str) -> WebProcess:
        port = free_port()
        proc, banner = start_process(
            trainsync("web", "--port", str(port), *world.cli_flags()),
            subprocess_env(tmp_path, **env),
        )
        assert f"the app on http://127.0.0.1:{port}/" in banner
        web = WebProcess(proc, port)
        started.append(web)
        return web

    yield start
    for web in started:
        if web.proc.poll() is None:
            web.proc.kill()
            web.proc.communicate(timeout=30)
        kill_group(web.proc.pid)  # never leave an app running after the test


async def read_screen(ws: aiohttp.ClientWebSocketResponse, until: bytes) -> bytes:
    """What the app draws (terminal bytes) until `until` shows up."""
    screen = b""
    async with asyncio.timeout(60):
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                screen += message.data
                if until in screen:
                    return screen
    raise AssertionError(f"the app closed without drawing {until!r}: {screen[-500:]!r}")


async def test_the_page_is_textual_serves_and_the_websocket_runs_our_app(
    world: World, start_web: object
) -> None:
    world.put_local(ACTOR, "a.txt", b"a")
    web = start_web()  # type: ignore[operator]

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{web.url}/") as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            page = await response.text()
        assert f'data-session-websocket-url="ws://127.0.0.1:{web.port}/ws"' in page
        assert "js/textual.js" in page and ">trainsync</div>" in page
        async with session.ws_connect(f"{web.url}/ws?width=80&height=24") as ws:
            screen = await read_screen(ws, ACTOR.encode())
    assert b"Sync" in screen  # the seed's button, drawn by trainsync's app

    _, err = web.stop()
    assert "Traceback" not in err


async def test_with_a_token_the_page_needs_it_once_then_a_cookie(start_web: object) -> None:
    web = start_web(TRAINSYNC_API_TOKEN=TOKEN)  # type: ignore[operator]

    # unsafe=True: keep cookies of an IP address host, as browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        for url in (f"{web.url}/", f"{web.url}/?token=wrong", f"{web.url}/ws"):
            async with session.get(url, allow_redirects=False) as response:
                assert response.status == 401, url
                assert "?token=" in await response.text()
        async with session.get(
            f"{web.url}/?token={TOKEN}&fontsize=14", allow_redirects=False
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/?fontsize=14"
            cookie = response.cookies["trainsync_web"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            assert TOKEN not in cookie.value
        async with session.get(f"{web.url}/?fontsize=14") as response:  # the cookie is kept
            assert response.status == 200
            assert "js/textual.js" in await response.text()
        foreign = {"Origin": "https://evil.example"}
        async with session.get(f"{web.url}/ws", headers=foreign) as response:
            assert response.status == 403 and "cross-origin" in await response.text()
    async with aiohttp.ClientSession() as session:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with session.get(f"{web.url}/", headers=bearer) as response:
            assert response.status == 200

    out, err = web.stop()
    assert TOKEN not in out + err
    assert '"GET /?token=***&fontsize=14" 303' in err
