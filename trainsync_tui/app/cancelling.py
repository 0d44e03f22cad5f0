"""Stopping tasks: escape for the selected actor's, ctrl+x for all, a hangup for all + exit.

escape never reaches an actor the user is not looking at (it may be scrolled out of view):
it names ctrl+x instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from trainsync_tui.app import view
from trainsync_tui.app.messages import Hangup
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.actors import ActorsPane

if TYPE_CHECKING:
    from trainsync_tui.app.app import TrainsyncApp


def cancel_selected(app: TrainsyncApp) -> None:
    if isinstance(app.focused, Input):  # escape in the filter closes it
        app.query_one(ActorsPane).close_filter()
        return
    state = app.selected
    cancelled = app.tasks.cancel(state.name) if state is not None else []
    if cancelled:
        _cancelled(app, cancelled)
        return
    others = len(app.tasks.running) + len(app.tasks.waiting)
    more = f" ({others} of other actors: ctrl+x cancels every task)" if others else ""
    view.tell(app, f"nothing running for this actor{more}")


def cancel_all(app: TrainsyncApp) -> None:
    cancelled = app.tasks.cancel(None)
    if cancelled:
        _cancelled(app, cancelled)
    else:
        view.tell(app, "nothing running to cancel")


def _cancelled(app: TrainsyncApp, what: list[str]) -> None:
    app.adapter.line("warning", f"cancel requested: {', '.join(sorted(what))}")
    for state in app.states.values():
        if app.tasks.status(state.name) in (ActorStatus.SYNCING, ActorStatus.RESTORING):
            state.message = "Cancelling…"
        view.refresh(app, state, tree=state is app.selected)


def hang_up(app: TrainsyncApp, event: Hangup) -> None:
    """SIGTERM/SIGHUP/SIGINT or a lost terminal: cancel through the engine, then exit."""
    running = sorted(str(t) for t in app.tasks.running.values())
    app.tasks.cancel(None)
    what = f"cancelling {', '.join(running)} and " if running else ""
    app.adapter.log.write("warning", f"{event.reason}: {what}quitting")
    app.exit(event.code)
