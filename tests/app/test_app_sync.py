"""The main screen end to end: audit states, selective sync, sync everything, the Sync button,
dry run and history — real engine, real loopback S3."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Button

from tests.app.conftest import (
    BROKEN,
    CONFLICTED,
    IN_SYNC,
    SYNC_ME,
    FakeSchedule,
    opened,
    select,
    settle,
    wait_for,
)
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.actors import MESSAGE_SECONDS
from trainsync_tui.app.screens.sync_scope import SyncScopeScreen
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import SYNC_TOOLTIP, ActorHeader, Spinner


def prompt_of(app: TrainsyncApp, actor: str) -> str:
    """The actor's row as the list draws it (25 columns: the pane less its border)."""
    pane = app.query_one(ActorsPane)
    console = Console(width=25, record=True, file=io.StringIO())
    console.print(pane.option_list.get_option(actor).prompt)
    return console.export_text().rstrip("\n")


async def test_opens_and_audits_every_actor_showing_its_state(app: TrainsyncApp) -> None:
    async with opened(app) as pilot:
        assert set(app.main.states) == {SYNC_ME, IN_SYNC, CONFLICTED, BROKEN}
        assert "● 5" in prompt_of(app, SYNC_ME)
        assert "✓" in prompt_of(app, IN_SYNC)
        assert "! 1" in prompt_of(app, CONFLICTED)
        assert "error" in prompt_of(app, BROKEN)
        await select(pilot, app, CONFLICTED)  # the header says the row's glyphs in words
        assert app.query_one(ActorHeader).state == "! 1 conflict"
        await select(pilot, app, SYNC_ME)
        tree = app.query_one(DiscrepancyTree)
        groups = [str(node.label) for node in tree.root.children]
        assert [g.split(" · ")[0] for g in groups] == [
            "[ ] Upload to S3",
            "[ ] Download from S3",
            "[ ] Add to manifest",
            "[ ] Update manifest",
            "[ ] Remove from manifest",
        ]
        assert "1 file · 200B" in groups[0]
        await select(pilot, app, BROKEN)
        assert "not valid JSON" in app.query_one(ActorHeader).message


async def test_space_marks_a_file_and_s_syncs_only_the_marked_items(
    app: TrainsyncApp, world: World
) -> None:
    async with opened(app, SYNC_ME) as pilot:
        tree = app.query_one(DiscrepancyTree)
        tree.focus()
        # Cursor on "Download from S3": open it, its folder, and mark the one file in it.
        await pilot.press("down", "enter", "down", "enter", "down", "space")
        assert str(tree.cursor_node.label).startswith("[x] down.png")
        # And the whole "Remove from manifest" group.
        tree.move_cursor(tree.root.children[4])
        await pilot.press("space")
        assert len(app.main.states[SYNC_ME].marks) == 2
        await pilot.press("s")
        await settle(pilot, app)
        assert world.read_local(SYNC_ME, "images/down.png") == b"down" * 100
        assert "gone.txt" not in world.manifest_md5s(SYNC_ME)
        # Nothing unmarked moved.
        assert "images/up.png" not in world.s3_paths(SYNC_ME)
        assert "text/add.txt" not in world.manifest_md5s(SYNC_ME)
        assert "● 3" in prompt_of(app, SYNC_ME)


async def test_s_with_nothing_marked_syncs_everything_and_re_audits(
    app: TrainsyncApp, world: World, schedule: FakeSchedule
) -> None:
    async with opened(app, SYNC_ME) as pilot:
        await pilot.press("s")
        await settle(pilot, app)
        assert world.s3_paths(SYNC_ME) == [
            "images/down.png",
            "images/up.png",
            "text/add.txt",
            "text/update.txt",
        ]
        assert sorted(world.manifest_md5s(SYNC_ME)) == world.s3_paths(SYNC_ME)
        assert world.local_paths(SYNC_ME) == world.s3_paths(SYNC_ME)
        assert "✓" in prompt_of(app, SYNC_ME)
        message = app.query_one(ActorHeader).message
        assert "1 uploaded" in message and "1 downloaded" in message
        assert "1 removed from manifest" in message


async def test_sync_button_is_first_disabled_while_syncing_and_its_summary_clears(
    app: TrainsyncApp, world: World, schedule: FakeSchedule
) -> None:
    async with opened(app, SYNC_ME) as pilot:
        header = app.query_one(ActorHeader)
        button = header.query_one("#sync-button", Button)
        assert header.query_one("#header-row").children[0] is button
        assert str(button.label) == "🔄 Sync" and button.variant == "success"
        assert button.tooltip == SYNC_TOOLTIP
        # With marks the button asks (tests/app/test_app_marks.py); `a` answers everything.
        app.query_one(DiscrepancyTree).focus()
        await pilot.press("space")
        spinner = header.query_one(Spinner)
        seen: list[tuple[bool, bool, bool, str]] = []
        header.watch(
            header,
            "busy",
            lambda busy: seen.append((busy, button.disabled, spinner.display, header.message)),
            init=False,
        )
        await pilot.click("#sync-button")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncScopeScreen))
        await pilot.press("a")
        await settle(pilot, app)
        assert seen[0][:3] == (True, True, True) and seen[0][3].startswith("Syncing")
        assert seen[-1][:3] == (False, False, False)
        assert not button.disabled
        assert header.message.startswith("✅") and "1 uploaded" in header.message
        assert world.local_paths(SYNC_ME) == world.s3_paths(SYNC_ME)
        assert MESSAGE_SECONDS in [delay for delay, _ in schedule.calls]
        schedule.fire()
        await pilot.pause()
        assert header.message == ""


async def test_u_is_upload_only_and_d_download_only(app: TrainsyncApp, world: World) -> None:
    async with opened(app, SYNC_ME) as pilot:
        await pilot.press("u")
        await settle(pilot, app)
        assert "images/up.png" in world.s3_paths(SYNC_ME)
        assert "images/down.png" not in world.local_paths(SYNC_ME)
        await pilot.press("d")
        await settle(pilot, app)
        assert "images/down.png" in world.local_paths(SYNC_ME)
        assert "✓" in prompt_of(app, SYNC_ME)


async def test_dry_run_changes_nothing_and_says_what_would_happen(
    app: TrainsyncApp, world: World
) -> None:
    before = (world.s3_keys(), world.local_paths(SYNC_ME), world.manifest(SYNC_ME))
    async with opened(app, SYNC_ME) as pilot:
        await pilot.press("n", "s")
        await settle(pilot, app)
        message = app.query_one(ActorHeader).message
        assert message.startswith("Dry run") and "1 uploaded" in message
        assert "dry run ON" in app.query_one(ActorHeader).options
    assert (world.s3_keys(), world.local_paths(SYNC_ME), world.manifest(SYNC_ME)) == before


async def test_every_sync_is_written_to_history_and_h_shows_it(
    app: TrainsyncApp, world: World
) -> None:
    from trainsync_tui.app.screens.history import HistoryScreen

    async with opened(app, IN_SYNC) as pilot:
        await pilot.press("s")
        await settle(pilot, app)
        entries = world.engine().history(IN_SYNC)
        assert len(entries) == 1 and entries[0].via == "trainsync app"
        assert "@" in entries[0].who  # user@host, as the CLI records it
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        detail = str(app.screen.query_one("#history-detail").render())
        assert f"by {entries[0].who} via trainsync app" in detail
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen))
    log = (world.root / ".trainsync" / "logs" / "app.log").read_text()
    assert f"{IN_SYNC}: ✅ already in sync" in log


async def test_filter_shows_matching_actors_and_periodic_sync_runs_when_due(
    world: World, schedule: FakeSchedule
) -> None:
    from tests.app.conftest import Clock, build_actors

    build_actors(world)
    clock = Clock()
    app = TrainsyncApp(world.settings, schedule=schedule, clock=clock)
    async with opened(app) as pilot:
        await pilot.press("slash", "0", "0", "0", "3")
        pane = app.query_one(ActorsPane)
        assert [o.id for o in pane.option_list.options] == [CONFLICTED]
        await pilot.press("enter")
        await select(pilot, app, CONFLICTED)
        await pilot.press("p", "p")
        assert app.main.states[CONFLICTED].periodic_minutes == 15
        app.main.check_periodic()
        assert app.main.status_of(CONFLICTED) != "syncing"  # not due yet
        clock.now += 15 * 60
        app.main.check_periodic()
        assert app.main.status_of(CONFLICTED) == "syncing"
        await settle(pilot, app)
        assert len(world.engine().history(CONFLICTED)) == 1


async def test_without_s3_the_local_actors_still_show_with_the_reason(world: World) -> None:
    from dataclasses import replace

    world.put_local(SYNC_ME, "a.txt", b"a")
    app = TrainsyncApp(replace(world.settings, bucket="no-such-bucket-here"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                app.main.states.get(SYNC_ME) is not None
                and app.main.states[SYNC_ME].status == "error"
            ),
        )
        assert "no-such-bucket-here" in app.main.states[SYNC_ME].error
        assert "error" in prompt_of(app, SYNC_ME)
