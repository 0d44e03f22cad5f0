"""Issue 25: at NO_COLOR every focusable widget shows that it has the keys by text attributes
(reverse, bold, underline) or text, never by colour alone — tab then enter must be seen to
land on the Sync button, and the actors list's cursor row must stand out."""

from __future__ import annotations

from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from tests.app.conftest import SYNC_ME, FakeSchedule, build_actors, opened
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.widgets.actors import ActorsPane

Cell = tuple[str, bool, bool, bool]  # text, reverse, bold, underline: what shows without colour


def looks(widget: Widget) -> list[list[Cell]]:
    """The widget as drawn (border and line filters included), colours left out."""
    width, height = widget.outer_size
    return [
        [
            (seg.text, bool(seg.style.reverse), bool(seg.style.bold), bool(seg.style.underline))
            for seg in strip
            if seg.style is not None and seg.text.strip()
        ]
        for strip in widget.render_lines(Region(0, 0, width, height))
    ]


@pytest.fixture
def no_color_app(world: World, monkeypatch: pytest.MonkeyPatch) -> TrainsyncApp:
    monkeypatch.setenv("NO_COLOR", "1")  # read (and removed) by App.__init__
    build_actors(world)
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    assert app.no_color
    return app


async def focus(pilot: Pilot[Any], widget: Widget) -> None:
    widget.focus()
    await pilot.pause()
    assert widget.has_focus


async def test_every_focusable_widget_looks_different_focused_at_no_color(
    no_color_app: TrainsyncApp,
) -> None:
    app = no_color_app
    async with opened(app) as pilot:
        app.query_one(ActorsPane).open_filter()  # the filter too, which is hidden until `/`
        await pilot.pause()
        chain = list(app.screen.focus_chain)
        ids = {w.id for w in chain}
        assert {"actor-filter", "actor-list", "sync-button", "tree", "log"} <= ids
        for widget in chain:
            other = next(w for w in chain if w is not widget)
            await focus(pilot, widget)
            focused = looks(widget)
            await focus(pilot, other)
            assert looks(widget) != focused, f"#{widget.id} looks the same with and without focus"


async def test_the_actor_lists_cursor_row_is_reversed_only_while_it_has_focus(
    no_color_app: TrainsyncApp,
) -> None:
    app = no_color_app
    async with opened(app) as pilot:
        actors = app.query_one("#actor-list")
        await pilot.press("a")
        rows = looks(actors)
        assert rows[0][0][0] == SYNC_ME
        # The cursor's actor's row reversed, the next actors' not.
        assert all(reverse for _, reverse, _, _ in rows[0])
        assert not any(reverse for row in rows[1:3] for _, reverse, _, _ in row)
        await pilot.press("tab")  # to the Sync button
        assert app.focused is not None and app.focused.id == "sync-button"
        (button,) = [cells for cells in looks(app.focused) if cells]
        assert all(reverse and underline for _, reverse, _, underline in button)
        rows = looks(actors)  # the blurred cursor: underlined, not reversed
        assert all(underline and not reverse for _, reverse, _, underline in rows[0])
        await pilot.press("tab")
        (button,) = [cells for cells in looks(app.query_one("#sync-button")) if cells]
        assert not any(reverse or underline for _, reverse, _, underline in button)
