"""Issue 25 item 4: `f` finds files in the discrepancy tree and n / N / enter jump between
the matches; at 30,000 files each key opens at most a window of rows, never the folder."""

from __future__ import annotations

import time
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets.tree import TreeNode

from tests.app.conftest import SYNC_ME, select, settle
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.models.tree_model import Entry, Folder, Group, TreeModel
from trainsync_tui.app.widgets.discrepancy_tree import BATCH, DiscrepancyTree

FILES = 30_000


def rows(node: TreeNode[Any]) -> int:
    """How many rows the tree holds under `node` (what a key made it build)."""
    return sum(1 + rows(child) for child in node.children)


def big_model() -> TreeModel:
    """One folder of 30,000 frames (every 1,000th a "key" frame) beside a small one."""
    root = Folder("Upload to S3", "")
    frames = root.folders["frames"] = Folder("frames", "frames/")
    small = root.folders["meta"] = Folder("meta", "meta/")
    for n in range(FILES):
        name = f"{n:05}_key.png" if n % 1000 == 999 else f"{n:05}.png"
        entry = Entry(f"frames/{name}", name, 1000, None)
        for folder in (root, frames):
            folder.add(entry)
        frames.files.append(entry)
    entry = Entry("meta/KEY.json", "KEY.json", 10, None)
    root.add(entry)
    small.add(entry)
    small.files.append(entry)
    model = TreeModel([Group("upload", "Upload to S3", root)], {})
    model.index()  # as build_model does, in its worker
    return model


def cursor_path(tree: DiscrepancyTree) -> str:
    node = tree.cursor_node
    assert node is not None and node.data is not None and node.data.entry is not None
    return node.data.entry.path


async def tree_of(pilot: Pilot[Any], app: TrainsyncApp) -> DiscrepancyTree:
    """The tree of the actor with a file in every group, focused."""
    await settle(pilot, app)
    await select(pilot, app, SYNC_ME)
    tree = app.query_one(DiscrepancyTree)
    tree.focus()
    return tree


async def test_find_jumps_between_matches_with_n_shift_n_and_enter(app: TrainsyncApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        tree = await tree_of(pilot, app)
        await pilot.press("f", "t", "x", "t")
        assert isinstance(app.focused, Input)
        await pilot.pause()
        # text/add.txt and text/update.txt (the plan's .txt files), in the tree's order
        first = cursor_path(tree)
        assert first.endswith(".txt")
        assert str(app.query_one("#tree-found").text).startswith("1 of 3")  # type: ignore[attr-defined]
        await pilot.press("enter")
        second = cursor_path(tree)
        assert second != first and second.endswith(".txt")
        await pilot.press("escape")  # the field closes, the search stays on in the tree
        assert app.focused is tree
        await pilot.press("N")
        assert cursor_path(tree) == first
        await pilot.press("n")
        assert cursor_path(tree) == second
        assert not app.main.dry_run  # n was the search's, not dry run
        await pilot.press("escape")  # ends the search: n is dry run again
        assert not app.query_one("#tree-find").display
        await pilot.press("n")
        assert app.main.dry_run
        assert app.tasks.idle  # escape cancelled nothing either


async def test_at_30000_files_a_key_opens_a_window_of_rows_not_the_folder(
    app: TrainsyncApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        tree = await tree_of(pilot, app)
        tree.show_model(big_model(), set(), owner="big")
        await pilot.press("f", *"key")
        await pilot.pause()
        assert cursor_path(tree) == "frames/00999_key.png"
        seconds: list[float] = []
        seen = []
        for _ in range(31):  # every match and round to the first
            start = time.perf_counter()
            await pilot.press("enter")
            seconds.append(time.perf_counter() - start)
            seen.append(cursor_path(tree))
            assert rows(tree.root) <= 2 * BATCH + 10  # a window, not 29,000 rows
        assert seen[:2] == ["frames/01999_key.png", "frames/02999_key.png"]
        assert seen[28:] == ["frames/29999_key.png", "meta/KEY.json", "frames/00999_key.png"]
        await pilot.press("escape", "N")  # back round the end, in the tree
        assert cursor_path(tree) == "meta/KEY.json"
    seconds.sort()
    median, most = seconds[15] * 1000, seconds[-1] * 1000
    print(f"30,000 files: a key (Pilot, drawn) takes median {median:.0f} ms, max {most:.0f} ms")
