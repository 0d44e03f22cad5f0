"""Issue 25 item 6: every cut is "…" between words, never in a number ("200." for 200.0M,
"4 adde" at 60×20); under LANG=C the rows keep their cells (Textual's own "…" sent as "..."
pushed the pane separator over); a bad manifest's message is read whole at 80 columns."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tests.app.conftest import BROKEN, SYNC_ME, FakeSchedule, build_actors, select, settle
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.fit import fit
from trainsync_tui.app.glyphs import _ASCII, ASCII, UNICODE, Glyphs, to_ascii
from trainsync_tui.app.models.tree_model import Entry, Folder, Group, TreeModel
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.progress import ProgressPanel
from trainsync_tui.engine.events import Progress

LONG_ACTOR = "0005_a_really_long_actor_name_for_a_fleet"
NUMBER = re.compile(r"\d[\d.,:/]*[A-Za-z%]{0,3}(/s)?")


@asynccontextmanager
async def main_screen(
    world: World, size: tuple[int, int], actor: str = SYNC_ME, glyphs: Glyphs = UNICODE
) -> AsyncIterator[Pilot[Any]]:
    """The app on the test actors (and `LONG_ACTOR`), `actor` selected."""
    build_actors(world)
    world.put_local(LONG_ACTOR, "a.txt", b"a")  # cut in the list (and the header)
    app = TrainsyncApp(world.settings, schedule=FakeSchedule(), glyphs=glyphs)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await select(pilot, app, actor)
        await pilot.pause()
        yield pilot


def screen_rows(app: App[Any]) -> list[str]:
    """The screen as the terminal gets it, one string a row (what a snapshot draws)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))  # as export_screenshot does
    return console.export_text().splitlines()


def assert_whole_numbers(shown: str, original: str) -> None:
    """Every number shown stands in the original as a whole word (never "200." of 200.0M)."""
    words = original.replace("·", " ").split()
    for word in shown.replace("·", " ").replace("…", " ").replace("...", " ").split():
        if NUMBER.fullmatch(word):
            assert word in words, f"{word!r} cut from {original!r}: {shown!r}"


@pytest.mark.parametrize("width", range(4, 46))
def test_a_cut_keeps_whole_numbers_and_says_so(width: int) -> None:
    line = "[ ] Upload to S3 · 1,204 files · 200.0M · 3 days"
    shown = fit(line, width)
    assert cell_len(shown) <= width
    assert shown == line or shown.endswith("…")
    kept, words = shown.removesuffix("…").split(), line.split()
    assert kept[:-1] == words[: len(kept) - 1]  # whole words from the start, then
    last = words[len(kept) - 1] if kept else ""
    assert last.startswith(kept[-1] if kept else "")  # the start of a long word,
    assert last == kept[-1] or not last[0].isdigit()  # but never of a number


def test_a_long_name_is_cut_inside_with_an_ellipsis() -> None:
    assert fit(LONG_ACTOR, 12) == "0005_a_real…"
    assert fit(LONG_ACTOR, 12, "...") == "0005_a_re..."


class TreeApp(App[None]):
    def __init__(self, model: TreeModel, glyphs: Glyphs) -> None:
        super().__init__()
        self.model, self.glyphs = model, glyphs

    def compose(self) -> ComposeResult:
        yield DiscrepancyTree(clock=lambda: 0.0, glyphs=self.glyphs)

    def on_mount(self) -> None:
        self.query_one(DiscrepancyTree).show_model(self.model, set(), owner="a")


def big_file_model() -> TreeModel:
    root = Folder("Upload to S3", "")
    entry = Entry("clip.mp4", "clip.mp4", 200 * 1024 * 1024, None)
    root.add(entry)
    root.files.append(entry)
    return TreeModel([Group("upload", "Upload to S3", root)], {})


@pytest.mark.parametrize("glyphs", [UNICODE, ASCII], ids=["utf8", "ascii"])
@pytest.mark.parametrize("width", [20, 24, 27, 30, 33])
async def test_tree_rows_cut_between_words_with_an_ellipsis(glyphs: Glyphs, width: int) -> None:
    app = TreeApp(big_file_model(), glyphs)
    async with app.run_test(size=(width, 5)) as pilot:
        tree = app.query_one(DiscrepancyTree)
        tree.root.children[0].expand()
        await pilot.pause()
        rows = [tree.render_line(y).text.rstrip() for y in range(2)]
    ellipsis = glyphs.text("…")
    full = glyphs.text("[ ] Upload to S3 · 1 file · 200.0M")
    for row in rows:
        assert cell_len(row) <= width
    assert (
        rows[0] == glyphs.text("▼ ") + full
        if cell_len(full) + 2 <= width
        else (rows[0].endswith(ellipsis))
    )
    assert_whole_numbers(rows[0], full)


async def test_the_log_wraps_at_60_columns_instead_of_cutting(world: World) -> None:
    said = "0001_sync_me: ✅ 4 added to manifest, 3 uploaded, 2 downloaded · 1 conflict skipped (c)"
    async with main_screen(world, (60, 20)) as pilot:
        log = pilot.app.query_one(LogPane)
        log.add_lines([("info", said)])
        await pilot.pause()
        lines = [strip.text.rstrip() for strip in log.lines]
        width = log.scrollable_content_region.width
    assert all(cell_len(line) <= width < 60 for line in lines)
    assert " ".join(" ".join(lines).split()).endswith(said)  # every word, none cut


async def test_the_progress_lines_cut_whole_numbers_at_60x20(world: World) -> None:
    progress = Progress(SYNC_ME, 1_204, 15_001, 123_400_000, 209_715_200, elapsed=12.0)
    current = "images/a_rather_long_folder_name/and_a_long_file_name.png (200.0M)"
    async with main_screen(world, (60, 20)) as pilot:
        pilot.app.query_one(ProgressPanel).show(progress, current)
        await pilot.pause()
        rows = screen_rows(pilot.app)
    second = next(row for row in rows if " of " in row)
    line = second.split("▕", 1)[-1].strip()
    assert line.endswith("…")
    assert_whole_numbers(line, f"117.7 MiB of 200.0 MiB · now: {current}")


def test_ascii_output_keeps_every_symbol_to_its_cells() -> None:
    """The layout is done when the output thread translates: "…" → "..." moved the rest of
    the row two cells right, over the pane's separator."""
    for code, _ in _ASCII.items():
        symbol = chr(code)
        assert cell_len(to_ascii(symbol)) == cell_len(symbol), symbol
    for text in ("中文 name", "e\u0301t\u00e9", "0001_syn… ● 5"):
        assert cell_len(to_ascii(text)) == cell_len(text) and to_ascii(text).isascii()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_under_lang_c_the_pane_separator_stays_in_its_column(
    world: World, size: tuple[int, int]
) -> None:
    async with main_screen(world, size, LONG_ACTOR, ASCII) as pilot:
        rows = [to_ascii(row) for row in screen_rows(pilot.app)]  # what the terminal receives
    column = 25 if size[0] >= 80 else 21  # app.tcss: #actors is 26 (22 when narrow) wide
    assert any(LONG_ACTOR[:10] in row for row in rows)
    for row in rows[: size[1] - 8]:
        assert len(row) == size[0] and row[column] == "|", row


async def test_a_bad_manifests_message_is_read_whole_at_80_columns(world: World) -> None:
    async with main_screen(world, (80, 24), BROKEN) as pilot:
        tree = pilot.app.query_one(DiscrepancyTree)
        shown = " ".join(tree.render_line(y).text.strip() for y in range(tree.last_line + 1))
        rows = screen_rows(pilot.app)[:5]  # the message under the Sync button
        header = " ".join(row.split("▕", 1)[-1].strip() for row in rows)
    assert "fix or move it away (it was left untouched)" in header
    assert "(it was left untouched)" in shown
    assert "manifest.json" in shown.replace(" ", "")
