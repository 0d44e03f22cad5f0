"""What a lazygit / k9s user expects of the keys: j/k, a jump to the actors, a refresh of
the actor list, the app's actions in the command palette, periodic sync saying when it runs,
a screen that says there is no bucket, and a long actor name kept on one row."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from tests.app.conftest import (
    IN_SYNC,
    SYNC_ME,
    Clock,
    FakeSchedule,
    opened,
    settle,
    wait_for,
)
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.keys import BINDINGS
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader


async def test_j_k_move_and_a_jumps_to_the_actors(app: TrainsyncApp) -> None:
    async with opened(app, SYNC_ME) as pilot:
        tree = app.query_one(DiscrepancyTree)
        tree.focus()
        await pilot.press("j", "j")
        assert tree.cursor_line == 2
        await pilot.press("k")
        assert tree.cursor_line == 1
        await pilot.press("a")
        pane = app.query_one(ActorsPane)
        assert app.focused is pane.option_list
        await pilot.press("j")
        assert pane.selected == IN_SYNC


async def test_ctrl_r_finds_an_actor_made_after_the_start(app: TrainsyncApp, world: World) -> None:
    async with opened(app) as pilot:
        world.put_s3("0099_new", "a.bin", b"a")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "0099_new" in app.main.states)
        await settle(pilot, app)
        assert app.main.states["0099_new"].plan is not None  # audited, the others left alone
        assert [o.id for o in app.query_one(ActorsPane).option_list.options][-1] == "0099_new"


async def test_the_command_palette_lists_the_apps_own_actions(app: TrainsyncApp) -> None:
    async with opened(app):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Sync (s)",
            "Upload only (u)",
            "Dry run (n)",
            "History (h)",
            "Refresh (ctrl+r)",
            "Cancel all (ctrl+x)",
        ):
            assert title in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Dry run (n)")
        await command.callback()
        assert app.main.dry_run


async def test_periodic_sync_says_when_it_runs_and_that_it_ends_with_the_app(
    world: World, schedule: FakeSchedule
) -> None:
    from tests.app.conftest import build_actors

    build_actors(world)
    app = TrainsyncApp(world.settings, IN_SYNC, schedule=schedule, clock=Clock(1_764_000_000.0))
    async with opened(app) as pilot:
        await pilot.press("p")
        message = app.query_one(ActorHeader).message
        assert "every 5 min, next at " in message and "ends when the app does" in message
        assert "next " in app.query_one(ActorHeader).options


async def test_with_no_bucket_configured_the_screen_says_so(world: World) -> None:
    app = TrainsyncApp(replace(world.settings, bucket=None), schedule=FakeSchedule())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "bucket" in app.query_one(ActorHeader).message)
        assert "no S3 bucket configured" in app.query_one(ActorHeader).message


def screen_rows(app: TrainsyncApp) -> list[str]:
    """The screenshot's terminal lines (the SVG has one text element per run of one style)."""
    svg = app.export_screenshot()
    lines: dict[str, str] = {}
    for line, text in re.findall(
        r'<text[^>]*clip-path="url\(#[^)]*line-(\d+)\)">(.*?)</text>', svg
    ):
        lines[line] = lines.get(line, "") + html.unescape(text).replace("\xa0", " ")
    return [lines[key] for key in sorted(lines, key=int)]


async def test_a_long_actor_name_is_cut_on_one_row_beside_its_counts(world: World) -> None:
    name = "0001_" + "a_very_long_actor_name_" * 3
    world.put_s3(name, "a.bin", b"a")
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app):
        rows = screen_rows(app)
        text = "".join(rows)
        # Ellipsised, the counts kept against the pane's edge (the SVG's runs of blanks are
        # not text elements, so the gap between them is not in `text`).
        assert "0001_a_very_long_ac…● 1▕" in text
        assert text.count("0001_a_very") == 2  # the list's row and the header, once each
        assert "● 1 difference" in text  # the header says it in words


async def test_an_actor_with_conflicts_and_differences_takes_one_row(world: World) -> None:
    """Two rows an actor made 200 actors 29 screens at 80×24 (issue 25)."""
    names = [f"{n:04}_state" for n in range(3)]
    for name in names:
        for n in range(10):
            world.put_local(name, f"new{n}.bin", b"n")
        world.put_local(name, "both.bin", b"local")
        world.put_s3(name, "both.bin", b"s3")
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app):
        rows = [row for row in screen_rows(app) if "_state" in row]
        listed = [row for row in rows if "! 1 ● 10" in row]
        assert len(listed) == 3  # one row each, nothing wrapped onto a row of its own
        assert all(name in "".join(listed) for name in names)


def test_help_and_keys_list_every_binding_once() -> None:
    keys = [b.key for b in BINDINGS]  # type: ignore[union-attr]
    assert len(keys) == len(set(keys))
    assert {"a", "ctrl+r", "ctrl+x"} <= set(keys)


async def test_the_screen_is_up_while_the_demo_prepares_its_data(world: World) -> None:
    """`trainsync demo` was a blank screen for 5-10 s: its S3 and sample data came first."""
    import threading

    release = threading.Event()

    def prepare() -> None:
        assert release.wait(30)
        world.put_s3("0042_demo", "a.bin", b"a")

    app = TrainsyncApp(world.settings, schedule=FakeSchedule(), prepare=prepare)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(DiscrepancyTree)
        await wait_for(pilot, lambda: "preparing" in str(tree.root.children[0].label))
        assert not app.main.states
        release.set()
        await settle(pilot, app)
        assert list(app.main.states) == ["0042_demo"]
