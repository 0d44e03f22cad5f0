"""What the header and keys tell a new user: summaries that never claim more than happened,
messages read in full at 80×24, and q / ? / ctrl+c working even with no actor at all."""

from __future__ import annotations

from textual.widgets import Input

from tests.app.conftest import (
    BROKEN,
    CONFLICTED,
    FakeSchedule,
    build_actors,
    opened,
    select,
    settle,
    wait_for,
)
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.help import HelpScreen
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane

UP_ONLY = "0009_up_only"


def log_text(app: TrainsyncApp) -> str:
    return "\n".join(str(line.text) for line in app.query_one(LogPane).lines)


async def test_summaries_say_what_happened_not_already_in_sync(
    world: World, schedule: FakeSchedule
) -> None:
    build_actors(world)
    world.put_local(UP_ONLY, "new.txt", b"new")
    app = TrainsyncApp(world.settings, schedule=schedule)
    async with opened(app) as pilot:
        header = app.query_one(ActorHeader)
        # A corrupt manifest: nothing was synced, and the reason is in the message.
        await select(pilot, app, BROKEN)
        assert header.actor == BROKEN  # the header names the actor it is about
        await pilot.press("s")
        await settle(pilot, app)
        assert header.message.startswith("✗ not synced: ") and "not valid JSON" in header.message
        assert "already in sync" not in log_text(app) and "✅" not in header.message
        # Download only, with only an upload to do: nothing to download, the upload is left.
        await select(pilot, app, UP_ONLY)
        await pilot.press("d")
        await settle(pilot, app)
        assert header.message == "✅ nothing to download"
        assert "● 1" in str(app.query_one(ActorsPane).option_list.get_option(UP_ONLY).prompt)
        assert header.state == "● 1 difference"
        # A skipped conflict is a warning, in the singular, not a green tick.
        await select(pilot, app, CONFLICTED)
        await pilot.press("s")
        await settle(pilot, app)
        assert header.message == "! nothing else to do · 1 conflict skipped (c)"
        # Remarks go to the header, not a toast over the log or a dialog's keys.
        await pilot.press("n")
        assert header.message == "dry run ON: syncs change nothing"
        assert "dry run ON" in header.options and len(app._notifications) == 0
        # The header message wraps instead of being cut at 80 columns.
        message = header.query_one("#sync-message")
        assert message.styles.height is not None and message.styles.height.is_auto


async def test_with_no_actor_q_help_and_ctrl_c_still_work(world: World) -> None:
    app = TrainsyncApp(world.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.query_one(ActorHeader)
        await wait_for(pilot, lambda: "no actors under" in header.message)
        assert not isinstance(app.focused, Input)  # keys reach the app, not a hidden filter
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+c")
    assert app.return_code == 0


def test_the_app_keys_are_not_priority_so_dialogs_keep_their_own() -> None:
    """The conflict view's s/n/x and the delete dialog's n mean other things there; `/` alone
    has priority, on the main screen only (a dialog's field keeps it: test_input_burst)."""
    from trainsync_tui.app.keys import BINDINGS

    priority = [b.key for b in BINDINGS if getattr(b, "priority", False)]
    assert BINDINGS and priority == ["slash"]
