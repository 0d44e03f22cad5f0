"""Opening the modal screens (conflicts, delete-orphans, the delete guard, history, help) and
applying results."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from trainsync_tui.app import view
from trainsync_tui.app.messages import DeletionsPlanned, HistoryLoaded
from trainsync_tui.app.widgets.state import ActorState
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.plan.build import Category, Conflict, ConflictPolicy, Plan

if TYPE_CHECKING:
    from trainsync_tui.app.app import TrainsyncApp


def all_conflicts(plan: Plan) -> list[Conflict]:
    """Unresolved conflicts plus those already given a resolution, so choices can change."""
    found = list(plan.conflicts)
    for action in plan.actions:
        if action.category == Category.CONFLICT and action.local and action.remote:
            found.append(Conflict(action.path, action.local, action.remote, action.recorded))
    return sorted(found, key=lambda c: c.path)


def _replan(app: TrainsyncApp, name: str) -> None:
    state = app.states[name]
    if state.audit is None:
        return
    options = app._options(state, marks=False)
    app._start(partial(app.adapter.replan, name, state.audit, options), f"plan:{name}", "plan")


def open_conflicts(app: TrainsyncApp) -> None:
    from trainsync_tui.app.screens.conflicts import ConflictScreen

    state = app.selected
    if state is None or state.plan is None:
        view.tell(app, "audit the actor first (r)")
        return
    conflicts = all_conflicts(state.plan)
    if not conflicts:
        view.tell(app, f"{state.name} has no conflicts")
        return

    def apply(result: dict[str, ConflictPolicy] | None) -> None:
        if result is None:
            return
        state.resolutions = dict(result)
        chosen = ", ".join(f"{p} → {c}" for p, c in sorted(result.items())) or "all skipped"
        app.adapter.line("info", f"{state.name}: conflict choices: {chosen}")
        view.tell(app, f"{len(result)} conflict choice(s) kept: press s to sync")
        _replan(app, state.name)

    # Start from the choices already made, so reopening shows them (not "skip") and an
    # apply that does not touch them keeps them.
    chosen = {
        a.path: a.resolved
        for a in state.plan.actions
        if a.category == Category.CONFLICT and a.resolved
    }
    chosen.update(state.resolutions)
    app.push_screen(ConflictScreen(state.name, conflicts, now=app.clock, chosen=chosen), apply)


def toggle_delete_orphans(app: TrainsyncApp) -> None:
    state = app.selected
    if state is None:
        return
    if state.delete_orphans:
        state.delete_orphans = state.force = False
        view.tell(app, "orphans will be kept (added to the manifest)")
        _replan(app, state.name)
        return
    if state.audit is None:
        view.tell(app, "audit the actor first (r)")
        return
    options = app._options(state, marks=False)
    job = partial(app.adapter.plan_deletions, state.name, state.audit, options)
    app._start(job, f"plan:{state.name}", "plan deletions")


def confirm_deletions(app: TrainsyncApp, event: DeletionsPlanned) -> None:
    from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen

    state = app.states.get(event.actor)
    if state is None:
        return

    def apply(answer: str | None) -> None:
        if answer not in ("confirm", "force"):
            view.tell(app, "delete orphans stays off")
            return
        state.delete_orphans = True
        state.force = answer == "force"
        count = len(event.deletions)
        app.adapter.line("warning", f"{state.name}: delete orphans ON ({count} files)")
        view.refresh(app, state)
        _replan(app, state.name)

    screen = ConfirmDeleteScreen(state.name, event.deletions, event.total, app.settings.max_delete)
    app.push_screen(screen, apply)


def offer_force(app: TrainsyncApp, state: ActorState, refused: SyncOptions, why: str) -> None:
    """The guard refused a sync the user started: y runs that same sync once, forced (the CLI's
    --force; the app has no flag to pass)."""
    from trainsync_tui.app.screens.guard import GuardScreen

    if len(app.screen_stack) > 1:
        return  # another dialog is open (or a periodic run ended under it): the header says it

    def apply(force: bool | None) -> None:
        if not force:
            view.tell(app, "nothing changed: the guard stays")
            return
        app.adapter.line("warning", f"{state.name}: sync past the delete guard (forced)")
        app.start_sync(state, replace(refused, force=True))

    app.push_screen(GuardScreen(state.name, why), apply)


def show_history(app: TrainsyncApp, event: HistoryLoaded) -> None:
    from trainsync_tui.app.screens.history import HistoryScreen

    app.push_screen(HistoryScreen(event.entries, actor=event.actor, now=app.clock))


def show_help(app: TrainsyncApp) -> None:
    from trainsync_tui.app.screens.help import HelpScreen

    rows = [(app.get_key_display(b), b.tooltip or b.description) for b in app.BINDINGS]  # type: ignore[union-attr]
    rows += [
        ("Sync", "The Sync button (tab, enter): audit, then sync everything"),
        ("enter", "Open or close the folder or group under the cursor"),
        ("↑ ↓ j k", "Move in the tree or the actors list"),
        ("ctrl+p", "Command palette: every action by name"),
        ("tab", "Move between the actors list and the tree"),
        ("l s b n x a", "Conflict view: local, S3, both, newer, skip, same for all"),
        ("y f n", "Delete-orphans dialog: turn on (s deletes), on past the guard, keep"),
        ("esc", "In a dialog: close it, change nothing"),
    ]
    text = app.glyphs.text
    app.push_screen(HelpScreen([(text(key), text(what)) for key, what in rows]))
