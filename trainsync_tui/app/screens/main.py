"""The main screen: every action of the app's keys, on the actors of `ActorsScreen`; a dialog
is a screen that dismisses its answer, awaited by a `@work` method here."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Input

from trainsync_tui.app.keys import BINDINGS, MAIN_BINDINGS
from trainsync_tui.app.messages import DeletionsPlanned, HistoryLoaded
from trainsync_tui.app.models.actor_state import ActorState
from trainsync_tui.app.screens.actors import ActorsScreen
from trainsync_tui.app.screens.bandwidth import BandwidthScreen
from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.app.screens.guard import GuardScreen
from trainsync_tui.app.screens.help import HelpScreen
from trainsync_tui.app.screens.history import HistoryScreen
from trainsync_tui.app.screens.restore import RestoreScreen, TrashRow
from trainsync_tui.app.screens.sync_scope import SyncScopeScreen
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.fit_line import FitLine
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.ordered_input import OrderedInput
from trainsync_tui.engine.cancel import CancelToken, run_cancellable
from trainsync_tui.engine.errors import ConfigError, TrainsyncError
from trainsync_tui.engine.facade import SyncOptions


class MainScreen(ActorsScreen):
    """What each key does (the footer and `?` read these bindings), and the dialogs it asks."""

    BINDINGS: ClassVar[list[BindingType]] = MAIN_BINDINGS

    # -- sync ----------------------------------------------------------------------------

    def action_sync(self, direction: str = "both") -> None:
        state = self.selected
        if state is not None:
            self.sync_actor(state, direction)

    @on(Button.Pressed, "#sync-button")
    def _sync_button(self) -> None:
        """The button promises everything (its tooltip, the SPEC's words); with marks present
        it asks first, showing them, instead of syncing behind them."""
        state = self.selected
        if state is None:
            return
        if not state.marks:
            self.sync_actor(state)
            return
        self._ask_scope(state)

    @work(group="dialog", exit_on_error=False, description="the Sync button's question")
    async def _ask_scope(self, state: ActorState) -> None:
        marked = sorted(mark.describe() for mark in state.marks)
        scope = await self.app.push_screen_wait(SyncScopeScreen(state.name, marked))
        if scope == "marked":
            self.sync_actor(state)
        elif scope == "everything":
            self.start_sync(state, self._options(state, marks=False))
        else:
            self.tell("nothing synced: the marks stay")

    def sync_refused(self, state: ActorState, refused: SyncOptions, why: str) -> None:
        # Another dialog open (or a periodic run that ended under it): the header says it.
        if len(self.app.screen_stack) == 1:
            self._offer_force(state, refused, why)

    @work(group="dialog", exit_on_error=False, description="the delete guard's question")
    async def _offer_force(self, state: ActorState, refused: SyncOptions, why: str) -> None:
        """The guard refused a sync the user started: y runs that same sync once, forced (the
        CLI's --force; the app has no flag to pass)."""
        if not await self.app.push_screen_wait(GuardScreen(state.name, why)):
            self.tell("nothing changed: the guard stays")
            return
        self.adapter.line("warning", f"{state.name}: sync past the delete guard (forced)")
        self.start_sync(state, replace(refused, force=True))

    # -- restore -------------------------------------------------------------------------

    def action_restore(self) -> None:
        state = self.selected
        if state is None:
            return
        if self.tasks.of(state.name) is not None:
            self.tell(f"{state.name} is busy: restore once its task ends (esc cancels it)")
            return
        self._pick_and_restore(state.name)

    @work(group="restore", exit_on_error=False, description="list the trash")
    async def _pick_and_restore(self, actor: str) -> None:
        """List the actor's trash by run, ask which to restore, then run it as its task."""

        def rows(_: CancelToken) -> tuple[list[TrashRow], list[str]]:
            stamps, notes = self.adapter.trash(actor)
            return [TrashRow(s.stamp, len(s.local), len(s.s3), s.size) for s in stamps], notes

        try:
            found, notes = await run_cancellable(rows)
        except TrainsyncError as exc:
            self.adapter.line("error", f"{actor}: trash: {exc}")
            self.tell(str(exc))
            return
        if not found:
            self.tell(f"{actor}: nothing in the trash to restore")
            return
        stamp = await self.app.push_screen_wait(RestoreScreen(actor, found, notes))
        if stamp is None:
            return
        task = self.tasks.start_restore(actor)  # a task like a sync's: esc and ctrl+x cancel it
        if task is None:
            self.tell(f"{actor} is busy: restore once its task ends (esc cancels it)")
            return
        self.adapter.line("info", f"{actor}: restoring trash run {stamp}…")
        state = self.states[actor]
        state.message = f"Restoring {stamp}…"
        self.show(state, tree=True)
        self._run_task(task, partial(self.adapter.restore, task, stamp))

    # -- choices: conflicts, orphans, bandwidth ------------------------------------------

    def action_conflicts(self) -> None:
        state = self.selected
        if state is None or state.plan is None:
            self.tell("audit the actor first (r)")
            return
        conflicts = state.conflicts()
        if not conflicts:
            self.tell(f"{state.name} has no conflicts")
            return
        screen = ConflictScreen(
            state.name, conflicts, now=self.clock, chosen=state.conflict_choices()
        )
        self._resolve_conflicts(state, screen)

    @work(group="dialog", exit_on_error=False, description="resolve conflicts")
    async def _resolve_conflicts(self, state: ActorState, screen: ConflictScreen) -> None:
        result = await self.app.push_screen_wait(screen)
        if result is None:
            return
        state.resolutions = dict(result)
        chosen = ", ".join(f"{p} → {c}" for p, c in sorted(result.items())) or "all skipped"
        self.adapter.line("info", f"{state.name}: conflict choices: {chosen}")
        self.tell(f"{len(result)} conflict choice(s) kept: press s to sync")
        self._replan(state.name)

    def action_delete_orphans(self) -> None:
        state = self.selected
        if state is None:
            return
        if state.delete_orphans:
            state.delete_orphans = state.force = False
            self.tell("orphans will be kept (added to the manifest)")
            self._replan(state.name)
            return
        if state.audit is None:
            self.tell("audit the actor first (r)")
            return
        options = self._options(state, marks=False)
        job = partial(self.adapter.plan_deletions, state.name, state.audit, options)
        self._plan(job, state.name, "plan deletions")

    def on_deletions_planned(self, event: DeletionsPlanned) -> None:
        state = self.states.get(event.actor)
        if state is not None:
            self._confirm_deletions(state, event)

    @work(group="dialog", exit_on_error=False, description="confirm deletions")
    async def _confirm_deletions(self, state: ActorState, event: DeletionsPlanned) -> None:
        limit = self.settings.max_delete
        screen = ConfirmDeleteScreen(state.name, event.deletions, event.total, limit)
        answer = await self.app.push_screen_wait(screen)
        if answer not in ("confirm", "force"):
            self.tell("delete orphans stays off")
            return
        state.delete_orphans = True
        state.force = answer == "force"
        count = len(event.deletions)
        self.adapter.line("warning", f"{state.name}: delete orphans ON ({count} files)")
        self.show(state)
        self._replan(state.name)

    def action_bandwidth(self) -> None:
        """`--bwlimit` live: the process's limit, shared by every transfer, mid-sync too."""
        self._ask_bandwidth()

    @work(group="dialog", exit_on_error=False, description="set the bandwidth limit")
    async def _ask_bandwidth(self) -> None:
        text = await self.app.push_screen_wait(BandwidthScreen(self._bandwidth()))
        if text is None or not text.strip():
            return
        try:
            self.engine.throttle.set_rate(text.strip())
        except ConfigError as exc:  # a typo is a remark, never a crash
            self.tell(str(exc))
            return
        self.adapter.line("info", f"bandwidth limit: {self._bandwidth()}")
        self.tell(f"bandwidth limit {self._bandwidth()}")

    def _bandwidth(self) -> str:
        limit = self.engine.throttle.limit
        return limit.text if limit is not None else "off"

    # -- other actions -------------------------------------------------------------------

    def action_audit(self) -> None:
        state = self.selected
        if state is not None:
            self.queue_audit(state.name, first=True)

    def action_toggle_mark(self) -> None:
        self.query_one(DiscrepancyTree).action_toggle_mark()

    def action_dry_run(self) -> None:
        self.dry_run = not self.dry_run
        self.tell(f"dry run {'ON: syncs change nothing' if self.dry_run else 'off'}")

    def action_periodic(self) -> None:
        state = self.selected
        if state is not None:
            every = state.cycle_period(self.clock())
            ends = f", next at {state.next_run()}; it ends when the app does"
            more = ends if state.periodic_minutes else ""
            self.say(state, f"periodic sync {every}{more}")

    def action_focus_actors(self) -> None:
        self.query_one("#actor-list").focus()

    def action_refresh_actors(self) -> None:
        self.tell("looking for new actors…")
        self._list_actors()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `/` is a priority key (keys.py); in the filter, or any field, it is a character.
        return not (action == "filter" and isinstance(self.focused, Input))

    def action_filter(self) -> None:
        self.query_one(ActorsPane).open_filter()

    # -- find in the tree ------------------------------------------------------------------

    def on_mount(self) -> None:
        """The tree's search row, hidden until `f` (ActorsScreen composes the panes)."""
        row = Horizontal(
            OrderedInput(placeholder="find in the tree", id="tree-search"),
            FitLine("", self.glyphs, id="tree-found"),
            id="tree-find",
        )
        row.display = False
        self.query_one("#detail").mount(row, before="#tree")

    def action_find(self) -> None:
        tree = self.query_one(DiscrepancyTree)
        if tree.model is None or not tree.model.groups:
            self.tell("nothing to find: no plan shown")
            return
        self.query_one("#tree-find").display = True
        self.set_focus(self.query_one("#tree-search"))  # at once: the keys behind `f` follow

    @on(Input.Changed, "#tree-search")
    def _find_typed(self, event: Input.Changed) -> None:
        self.query_one(DiscrepancyTree).search(event.value)

    @on(Input.Submitted, "#tree-search")
    def _find_next(self) -> None:
        self.query_one(DiscrepancyTree).next_match()

    def on_discrepancy_tree_searched(self, event: DiscrepancyTree.Searched) -> None:
        self.query_one("#tree-found", FitLine).text = event.said
        if not event.said and not isinstance(self.focused, Input):
            self.query_one("#tree-find").display = False  # the search ended (esc, a new plan)
            self.query_one("#tree-search", Input).value = ""

    def action_sort(self) -> None:
        self.tell(f"actors sorted {self.query_one(ActorsPane).toggle_sort()}")

    def action_history(self) -> None:
        state = self.selected
        self._read_history(state.name if state else None)

    @work(thread=True, group="history", description="read history", exit_on_error=False)
    def _read_history(self, actor: str | None) -> None:
        self.adapter.history(actor)

    def on_history_loaded(self, event: HistoryLoaded) -> None:
        self.app.push_screen(HistoryScreen(event.entries, actor=event.actor, now=self.clock))

    def action_help(self) -> None:
        rows = [(self.app.get_key_display(b), b.tooltip or b.description) for b in BINDINGS]  # type: ignore[union-attr]
        rows += [
            ("Sync", "The Sync button (tab, enter): everything; asks if items are marked"),
            ("enter", "Open or close the folder or group under the cursor"),
            ("↑ ↓ j k", "Move in the tree or the actors list"),
            ("ctrl+p", "Command palette: every action by name"),
            ("tab", "Move between the actors list and the tree"),
            ("l s b n x a", "Conflict view: local, S3, both, newer, skip, same for all"),
            ("y f n", "Delete-orphans dialog: turn on (s deletes), on past the guard, keep"),
            ("esc", "In a dialog: close it, change nothing"),
        ]
        text = self.glyphs.text
        self.app.push_screen(HelpScreen([(text(key), text(what)) for key, what in rows]))

    # -- cancel --------------------------------------------------------------------------

    def stopping(self) -> None:
        """q's answer, drawn before the app leaves the screen: a line in the log (a cancelled
        task's own messages may rewrite the header or the tree meanwhile), and where the eye
        is: the selected actor's header, or the tree that says "preparing…"."""
        log = self.query_one(LogPane)
        log.add_lines([("warning", "stopping…")])
        # RichLog scrolls to a new line after the next refresh, and the exit follows that
        # refresh: a full log left the screen with the line below its view (CI saw it once).
        log.scroll_end(animate=False, immediate=True, x_axis=False)
        if self.selected is not None and self.tasks.status(self.selected.name) is None:
            self.tell("stopping…")
        elif self.selected is None:
            self.query_one(DiscrepancyTree).show_model(None, set(), "stopping…")

    def action_cancel(self) -> None:
        """escape: the selected actor's task only (another may be scrolled out of view)."""
        if isinstance(self.focused, Input):  # escape in the filter closes it
            if self.focused.id == "tree-search":  # the search stays on: n, N, esc in the tree
                self.query_one(DiscrepancyTree).focus()
                if not self.query_one(DiscrepancyTree).query:
                    self.query_one("#tree-find").display = False
                return
            self.query_one(ActorsPane).close_filter()
            return
        state = self.selected
        cancelled = self.tasks.cancel(state.name) if state is not None else []
        if cancelled:
            self._cancelled(cancelled)
            return
        others = len(self.tasks.running) + len(self.tasks.waiting)
        more = f" ({others} of other actors: ctrl+x cancels every task)" if others else ""
        self.tell(f"nothing running for this actor{more}")

    def action_cancel_all(self) -> None:
        cancelled = self.tasks.cancel(None)
        if cancelled:
            self._cancelled(cancelled)
        else:
            self.tell("nothing running to cancel")

    def _cancelled(self, what: list[str]) -> None:
        self.adapter.line("warning", f"cancel requested: {', '.join(sorted(what))}")
        for state in self.states.values():
            if self.tasks.status(state.name) in (ActorStatus.SYNCING, ActorStatus.RESTORING):
                state.message = "Cancelling…"
            self.show(state, tree=state is self.selected)
