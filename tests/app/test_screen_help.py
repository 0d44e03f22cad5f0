"""The `?` help lists every key it is given and closes with escape or `?`."""

from __future__ import annotations

import pytest

from tests.app.conftest_screens import ScreenHost, table_rows
from trainsync_tui.app.screens.help import HelpScreen

# The SPEC §6 keys plus a few more, as the main app would pass them.
KEYS = [
    ("s", "Sync the selected actor (its selection, or everything)"),
    ("r", "Re-audit the selected actor"),
    ("space", "Toggle the file, folder or group under the cursor"),
    ("escape", "Cancel the running task, or close the open dialog"),
    ("?", "Show this help"),
    ("q", "Quit"),
    ("u", "Upload only"),
    ("d", "Download only"),
    ("n", "Dry run on / off"),
    ("x", "Delete orphans on / off (asks first)"),
    ("c", "Resolve conflicts"),
    ("h", "Sync history"),
    ("/", "Filter the actors"),
]


@pytest.mark.parametrize("close_key", ["escape", "question_mark"])
async def test_every_key_is_listed_and_the_help_closes(close_key: str) -> None:
    many = KEYS + [(f"f{n}", f"Extra key number {n}") for n in range(1, 25)]
    app = ScreenHost(lambda: HelpScreen(many))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#help-table")
        assert table_rows(table) == [[key, text] for key, text in many]
        # More rows than the terminal has: the last one is reachable from the keyboard.
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table.cursor_row == len(many) - 1
        assert table.scroll_y > 0
        await pilot.press(close_key)
        assert await app.wait_dismissed() is None


def test_help_snapshot(snap_compare) -> None:
    assert snap_compare(ScreenHost(lambda: HelpScreen(KEYS)), terminal_size=(80, 24))
