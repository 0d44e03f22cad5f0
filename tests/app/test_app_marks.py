"""Issue 25, item 1: with marks present, no way of starting a sync of the actor runs more
than the marks behind the user's back — `s`, the palette and a periodic run sync the marks,
the Sync button (whose tooltip promises everything) asks first, showing them. Real keys,
real engine, real loopback S3."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from tests.app.conftest import SYNC_ME, Clock, FakeSchedule, build_actors, opened, settle, wait_for
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.sync_scope import SyncScopeScreen
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader


async def mark_downloads_by_keys(pilot: Pilot[Any], app: TrainsyncApp) -> None:
    """`a`, tab tab to the tree, `j` to "Download from S3", space: the issue's keys."""
    await pilot.press("a", "tab", "tab")
    assert isinstance(app.focused, DiscrepancyTree)
    await pilot.press("j", "space")
    assert "1 marked" in app.query_one(ActorHeader).options
    assert str(app.query_one(DiscrepancyTree).cursor_node.label).startswith("[x] Download")


def only_the_download_moved(world: World) -> None:
    assert world.read_local(SYNC_ME, "images/down.png") == b"down" * 100
    assert "images/up.png" not in world.s3_paths(SYNC_ME)  # upload: unmarked, not run
    assert "gone.txt" in world.manifest_md5s(SYNC_ME)  # remove from manifest: not run
    (entry,) = world.engine().history(SYNC_ME)
    assert entry.options["selective"] is True


async def test_tab_enter_on_the_sync_button_with_marks_asks_and_enter_syncs_the_marks(
    app: TrainsyncApp, world: World
) -> None:
    async with opened(app) as pilot:
        await mark_downloads_by_keys(pilot, app)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Button) and app.focused.id == "sync-button"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncScopeScreen))
        listing = str(app.screen.query_one("#scope-marked").render())
        assert "Download from S3" in listing
        assert world.s3_paths(SYNC_ME) == ["images/down.png", "text/add.txt", "text/update.txt"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SyncScopeScreen))
        await settle(pilot, app)
        only_the_download_moved(world)


async def test_escape_at_the_buttons_question_syncs_nothing_and_keeps_the_marks(
    app: TrainsyncApp, world: World
) -> None:
    async with opened(app) as pilot:
        await mark_downloads_by_keys(pilot, app)
        await pilot.press("shift+tab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncScopeScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SyncScopeScreen))
        await settle(pilot, app)
        assert world.engine().history(SYNC_ME) == []
        assert "images/down.png" not in world.local_paths(SYNC_ME)
        assert len(app.main.states[SYNC_ME].marks) == 1


async def test_the_palettes_sync_syncs_the_marks(app: TrainsyncApp, world: World) -> None:
    async with opened(app) as pilot:
        await mark_downloads_by_keys(pilot, app)
        await pilot.press("ctrl+p", *"Sync (s)")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(world.engine().history(SYNC_ME)))
        await settle(pilot, app)
        only_the_download_moved(world)


async def test_a_periodic_sync_holds_to_the_marks(world: World, schedule: FakeSchedule) -> None:
    build_actors(world)
    clock = Clock()
    app = TrainsyncApp(world.settings, schedule=schedule, clock=clock)
    async with opened(app) as pilot:
        await mark_downloads_by_keys(pilot, app)
        await pilot.press("p")
        clock.now += 5 * 60
        app.main.check_periodic()
        await settle(pilot, app)
        only_the_download_moved(world)
