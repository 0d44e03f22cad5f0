"""What shows an actor: its row in the list, and the header and tree when it is selected;
remarks in the header that clear themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader

if TYPE_CHECKING:
    from trainsync_tui.app.app import TrainsyncApp
    from trainsync_tui.app.widgets.state import ActorState

MESSAGE_SECONDS = 5.0


def refresh(app: TrainsyncApp, state: ActorState, *, tree: bool = False) -> None:
    """Redraw what shows this actor: its row, and the header/tree when it is selected."""
    app.query_one(ActorsPane).refresh_actor(state.name)
    if app.selected is not state:
        return
    activity = app.tasks.status(state.name)
    header = app.query_one(ActorHeader)
    header.actor = state.name
    error = state.error if state.status == ActorStatus.ERROR and not activity else ""
    header.message = state.message or error
    header.busy = activity in (ActorStatus.SYNCING, ActorStatus.RESTORING)
    limit = app.engine.throttle.limit  # the process's, shared by every actor's transfers
    header.options = state.options_line(app.dry_run) + (f" · bwlimit {limit.text}" if limit else "")
    if tree:
        tree_view = app.query_one(DiscrepancyTree)
        tree_view.show_model(state.model, state.marks, state.tree_note(activity), state.name)


def tell(app: TrainsyncApp, message: str) -> None:
    """A remark in the actor's header (it wraps), not a toast over a dialog or the log."""
    state = app.selected
    if state is not None and app.tasks.status(state.name) != ActorStatus.SYNCING:
        say(app, state, message)  # not over the sync's progress
    else:
        app.notify(message, timeout=3)


def say(app: TrainsyncApp, state: ActorState, message: str) -> None:
    """Show a message in the actor's header that clears itself after 5 seconds."""
    state.message = message
    refresh(app, state)

    def clear() -> None:
        if state.message == message:
            state.message = ""
            refresh(app, state)

    app.schedule(MESSAGE_SECONDS, clear)
