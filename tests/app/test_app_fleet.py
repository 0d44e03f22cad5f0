"""A fleet on one screen (issue 25 item 4): one row per actor, the `/` filter, and `o` to sort
by what needs attention first, all without touching the engine."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from tests.app.conftest import BROKEN, CONFLICTED, IN_SYNC, SYNC_ME, opened, wait_for
from tests.app.test_app_keys import screen_rows
from trainsync_tui.app import app as app_module
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.keys import BINDINGS
from trainsync_tui.app.models.actor_state import ActorState
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.actors import ActorsPane


def shown(pane: ActorsPane) -> list[str]:
    options = pane.option_list
    return [options.get_option_at_index(i).id or "" for i in range(options.option_count)]


async def test_o_sorts_by_what_needs_attention_first_and_back_by_name(app: TrainsyncApp) -> None:
    async with opened(app) as pilot:
        pane = app.query_one(ActorsPane)
        assert shown(pane) == [SYNC_ME, IN_SYNC, CONFLICTED, BROKEN]
        await pilot.press("o")
        assert shown(pane) == [BROKEN, CONFLICTED, SYNC_ME, IN_SYNC]
        assert "by state" in app.main.selected.message  # type: ignore[union-attr]
        await pilot.press("o")
        assert shown(pane) == [SYNC_ME, IN_SYNC, CONFLICTED, BROKEN]


async def test_a_filter_keystroke_redraws_the_list_without_auditing_again(
    app: TrainsyncApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with opened(app) as pilot:
        audits: list[str] = []
        monkeypatch.setattr(app.adapter, "audit", lambda task, _options: audits.append(task.actor))
        await pilot.press("o", "slash", "0", "0", "0")
        pane = app.query_one(ActorsPane)
        assert shown(pane) == [BROKEN, CONFLICTED, SYNC_ME, IN_SYNC]  # still sorted
        await pilot.press("3")
        await wait_for(pilot, lambda: shown(pane) == [CONFLICTED])
        assert isinstance(app.focused, Input)
        assert audits == [] and app.tasks.idle


def test_o_is_a_key_the_help_lists() -> None:
    assert any(getattr(b, "key", "") == "o" and b.action == "sort" for b in BINDINGS)  # type: ignore[union-attr]


STATUSES = [ActorStatus.OK, ActorStatus.DIFF, ActorStatus.ERROR, ActorStatus.CONFLICTS]


class FleetApp(App[None]):
    """The actors pane alone, with 200 actors in known states (no engine, no S3)."""

    CSS_PATH = Path(app_module.__file__).parent / "app.tcss"  # the real pane's rules

    def compose(self) -> ComposeResult:
        yield ActorsPane(id="actors")

    def on_mount(self) -> None:
        states = [ActorState(f"{n:04}_actor", STATUSES[n % 4]) for n in range(200)]
        self.query_one("#actor-filter").display = False
        self.query_one(ActorsPane).set_actors(states)


async def test_at_200_actors_a_filter_or_sort_key_is_answered_at_once() -> None:
    app = FleetApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ActorsPane)
        assert pane.option_list.option_count == 200
        assert pane.option_list.virtual_size.height == 200  # one row an actor
        rows = screen_rows(app)
        assert rows[0].startswith("0000_actor") and rows[0].endswith("·▕")  # never audited
        assert rows[2].endswith("✗ error▕")  # beside the scrollbar, not under it
        start = time.perf_counter()
        pane.toggle_sort()
        sorted_in = time.perf_counter() - start
        assert shown(pane)[:2] == ["0002_actor", "0006_actor"]  # the errors first
        pane.open_filter()
        start = time.perf_counter()
        await pilot.press("1", "9")
        typed_in = (time.perf_counter() - start) / 2
        assert sorted(shown(pane)) == [f"{n:04}_actor" for n in [19, 119, *range(190, 200)]]
        # Issue 25 asks for keys under 100 ms at 200 actors; the bound is loose for a
        # loaded test machine, the real cost is a few milliseconds.
        assert sorted_in < 0.1 and typed_in < 0.25


async def test_sorted_by_state_an_actor_whose_audit_changes_moves_to_its_place() -> None:
    app = FleetApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ActorsPane)
        pane.toggle_sort()
        assert shown(pane)[0] == "0002_actor"
        pane.states["0000_actor"].status = ActorStatus.ERROR  # an audit failed
        pane.refresh_actor("0000_actor")
        await pilot.pause()
        assert shown(pane)[:2] == ["0000_actor", "0002_actor"]
