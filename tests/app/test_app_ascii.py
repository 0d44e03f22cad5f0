"""On a terminal that is not UTF-8 (LANG=C, latin-1) the app writes only ASCII: its own
symbols, Textual's tree lines, borders and scrollbars."""

from __future__ import annotations

import html
import re

import pytest

from tests.app.conftest import SYNC_ME, FakeSchedule, build_actors, opened, settle
from tests.app.test_app_signals import Terminal
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.glyphs import ASCII, terminal_is_utf8
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree


@pytest.mark.parametrize(
    ("env", "utf8"),
    [
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, False),  # Python's coercion of LANG=C
        ({"LANG": "en_US.ISO-8859-1"}, False),
        ({}, False),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, False),
        ({"LANG": "en_US.UTF-8"}, True),
        ({"LANG": "C", "LC_CTYPE": "de_DE.utf8"}, True),
        ({"LC_ALL": "C.UTF-8"}, True),
    ],
)
def test_the_locale_decides_whether_the_terminal_takes_utf8(
    env: dict[str, str], utf8: bool
) -> None:
    assert terminal_is_utf8(env) is utf8


def _screen_text(app: TrainsyncApp) -> str:
    svg = app.export_screenshot()
    text = html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)))
    return text.replace("\xa0", " ")  # how the SVG writes a space


async def test_the_ascii_screen_has_no_other_character(world: World) -> None:
    build_actors(world)
    app = TrainsyncApp(world.settings, schedule=FakeSchedule(), glyphs=ASCII)
    async with opened(app, SYNC_ME) as pilot:
        tree = app.query_one(DiscrepancyTree)
        tree.focus()
        await pilot.press("enter", "down", "enter", "down", "enter", "s")
        await settle(pilot, app)
        text = _screen_text(app)
        assert "Sync" in text and SYNC_ME in text
        bad = {c for c in text if ord(c) > 127}
        assert bad == set(), [text[max(0, text.index(c) - 60) : text.index(c) + 5] for c in bad]


def test_under_lang_c_the_terminal_gets_only_ascii(world: World) -> None:
    world.put_s3("0001_big", "images/a.png", b"a")
    term = Terminal(world, locale="C")
    term.wait_for_text(b"1 difference")
    term.send(b"q")
    code, _ = term.wait_exit()
    assert code == 0
    assert bytes(b for b in term.output if b > 127) == b""
