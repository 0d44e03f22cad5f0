"""`trainsync web` in a real browser: Playwright drives Debian's chromium against the server.

Skipped, with the reason, where Playwright or chromium is missing (a laptop); CI installs
both. The page's terminal is read through xterm.js's buffer (webpage.py), keys go in as a
user types them, and a screenshot of the last page is left in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import WebFactory, WebProcess
from tests.server.webpage import (
    CHROMIUM_ARGS,
    SCREEN_SCRIPT,
    find_chromium,
    loopback_only,
    rows,
    screen,
    wait_for_screen,
    wait_for_text,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (it comes with the test extra)"
)
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium to run this)"
)

TOKEN = "web-t0ken-for-browsers"
OTHER = "0043_nordic_25_female"
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-browser.png"
FIRST_DRAW_SECONDS = 90.0  # a new app per tab: Python, Textual and boto3 start under load


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for the module; each test opens its own contexts (fresh cookies)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        yield chromium
        chromium.close()


def open_page(browser: Browser, web: WebProcess) -> tuple[Any, Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(60_000)
    loopback_only(context, web.port)
    context.add_init_script(SCREEN_SCRIPT)
    return context, context.new_page()


def selected_actor(page: Page) -> str | None:
    """The actor the header names (`Sync <actor>`): the one under the list's cursor."""
    found = re.search(r"Sync\s+(\d{4}_\w+)", screen(page))
    return found.group(1) if found else None


def wait_for_selected(page: Page, actor: str, after: str) -> None:
    condition = (
        "(rows, actor) => rows.some("
        "row => (row.text.replace(/\\s+/g, ' ') + ' ').includes('Sync ' + actor + ' '))"
    )
    wait_for_screen(page, condition, actor, f"{actor} under the cursor after {after}")


def test_without_the_token_the_browser_gets_401_and_no_app(
    browser: Browser, start_web: WebFactory
) -> None:
    web = start_web(TRAINSYNC_API_TOKEN=TOKEN)
    context, page = open_page(browser, web)
    try:
        for url in (f"{web.url}/", f"{web.url}/?token=wrong"):
            response = page.goto(url)
            assert response is not None and response.status == 401, url
            assert "open this page once as /?token=" in page.content()
        # The app's websocket, opened from that page as textual.js would: refused too.
        outcome = page.evaluate(
            """url => new Promise(resolve => {
                const socket = new WebSocket(url);
                socket.onopen = () => { socket.close(); resolve("open"); };
                socket.onclose = () => resolve("refused");
            })""",
            f"ws://127.0.0.1:{web.port}/ws?width=80&height=24",
        )
        assert outcome == "refused"
        assert context.cookies() == []
    finally:
        context.close()
    _, log = web.stop()
    # Refused by the guard, before textual-serve's handler could start an app.
    assert '"GET /ws?width=80&height=24" 401' in log


def test_the_app_in_a_browser_lists_actors_moves_the_cursor_and_syncs(
    browser: Browser, world: World, start_web: WebFactory
) -> None:
    world.put_local(ACTOR, "a.txt", b"aaa")
    world.put_local(OTHER, "b.txt", b"bb")
    web = start_web(TRAINSYNC_API_TOKEN=TOKEN)
    context, page = open_page(browser, web)
    try:
        # Opened once with ?token=: a 303 that leaves a cookie and drops the token.
        response = page.goto(f"{web.url}/?token={TOKEN}", wait_until="domcontentloaded")
        assert response is not None and response.status == 200
        redirect = response.request.redirected_from
        assert redirect is not None and redirect.response() is not None
        assert redirect.response().status == 303  # type: ignore[union-attr]
        assert page.url == f"{web.url}/"
        (cookie,) = context.cookies()
        assert cookie["name"] == "trainsync_web" and cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it

        # The actor list, each actor audited (the app's websocket came in with the cookie).
        wait_for_screen(
            page,
            # One row per actor: its name (cut with "…" when long), its state glyph and count.
            "rows => rows.filter(row => /^\\s*\\d{4}_\\S+\\s+\\S\\s+1\\b/.test(row.text))"
            ".length >= 2",
            None,
            "both actors listed and audited",
            FIRST_DRAW_SECONDS,
        )
        text = screen(page)
        assert text.index(ACTOR[:15]) < text.index(OTHER[:15])  # listed by name
        assert selected_actor(page) == ACTOR

        page.locator(".xterm-helper-textarea").focus()  # where xterm.js takes the keys
        page.keyboard.press("a")
        # The list has the keys once the tree's cursor, not the list's, is the underlined
        # one (app.tcss: the cursor of the pane without focus is underlined).
        wait_for_screen(
            page,
            "rows => { const u = rows.map(row => row.underlined).join('|');"
            " return u.includes('Upload to S3') && !/\\d{4}_/.test(u); }",
            None,
            "the actors list to take the keys after `a`",
        )
        page.keyboard.press("ArrowDown")
        wait_for_selected(page, OTHER, "ArrowDown")
        page.keyboard.press("k")
        wait_for_selected(page, ACTOR, "k")
        page.keyboard.press("j")
        wait_for_selected(page, OTHER, "j")

        page.keyboard.press("s")  # syncs the actor under the cursor
        done = f"{OTHER}: ✅ 1 uploaded, 1 added to manifest"
        wait_for_text(page, done, "the sync's summary in the log", timeout=60)
        lines = [row["text"].strip() for row in rows(page)]
        started = lines.index(f"{OTHER}: syncing started")
        assert started < lines.index(f"{OTHER}: uploaded: b.txt") < lines.index(done)
        assert world.s3_paths(OTHER) == ["b.txt"]
        assert world.s3_paths(ACTOR) == []  # only the actor under the cursor was synced
    finally:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
        context.close()
    _, log = web.stop()
    assert "Traceback" not in log and TOKEN not in log
