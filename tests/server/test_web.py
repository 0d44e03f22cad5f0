"""`trainsync web` as a real process: the app's page over HTTP, the app over its websocket."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import WebFactory

TOKEN = "web-t0ken-for-tests"


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
    world: World, start_web: WebFactory
) -> None:
    world.put_local(ACTOR, "a.txt", b"a")
    web = start_web()

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


async def test_with_a_token_the_page_needs_it_once_then_a_cookie(start_web: WebFactory) -> None:
    web = start_web(TRAINSYNC_API_TOKEN=TOKEN)

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
