"""The main screen: the actors, the selected actor's header, discrepancy tree and progress, and
the live log. It holds every action of the app's keys, runs each job as a worker (an actor's
audit, sync and restore through `Tasks`), awaits its dialogs, and shows what the engine answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, OptionList
from textual.worker import Worker, WorkerState

from trainsync_tui.app.adapter import EngineAdapter
from trainsync_tui.app.glyphs import Glyphs
from trainsync_tui.app.keys import BINDINGS, MAIN_BINDINGS
from trainsync_tui.app.messages import (
    ActorsListed,
    AuditFinished,
    DeletionsPlanned,
    HistoryLoaded,
    LogLines,
    ProgressChanged,
    RestoreFinished,
    StageChanged,
    SyncFinished,
)
from trainsync_tui.app.models.actor_state import ActorState
from trainsync_tui.app.screens.bandwidth import BandwidthScreen
from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.app.screens.guard import GuardScreen
from trainsync_tui.app.screens.help import HelpScreen
from trainsync_tui.app.screens.history import HistoryScreen
from trainsync_tui.app.screens.restore import RestoreScreen, TrashRow
from trainsync_tui.app.summaries import restore_lines, summary
from trainsync_tui.app.tasks import ActorStatus, Task, TaskKind, Tasks
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.progress import ProgressPanel
from trainsync_tui.engine.api import Engine, SyncOptions
from trainsync_tui.engine.cancel import CancelToken, run_cancellable
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ConfigError, TrainsyncError

Schedule = Callable[[float, Callable[[], None]], Any]
MESSAGE_SECONDS = 5.0  # a remark in the header clears itself after this


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = MAIN_BINDINGS

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        adapter: EngineAdapter,
        tasks: Tasks,
        *,
        glyphs: Glyphs,
        clock: Callable[[], float],
        schedule: Schedule | None = None,
        actor: str | None = None,
        prepare: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.adapter = adapter
        self.tasks = tasks
        self.glyphs = glyphs
        self.clock = clock
        self.schedule: Schedule = schedule or (lambda delay, fn: self.set_timer(delay, fn))
        self.initial_actor = actor
        self.prepare = prepare  # runs in the first listing's thread (the demo's set-up)
        self.states: dict[str, ActorState] = {}
        self.dry_run = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ActorsPane(self.tasks.status, self.glyphs, id="actors")
            with Vertical(id="detail"):
                yield ActorHeader(self.glyphs, id="header")
                yield DiscrepancyTree(id="tree", clock=self.clock, glyphs=self.glyphs)
                yield ProgressPanel(self.glyphs, id="progress")
        yield LogPane(self.glyphs, id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#actor-filter", Input).display = False
        tree = self.query_one(DiscrepancyTree)
        tree.show_model(None, set(), "preparing…" if self.prepare else "looking for actors…")
        tree.focus()  # not the hidden filter: q and ? must work even with no actor
        self.adapter.line("info", f"log file: {self.adapter.log.path}")
        self._list_actors(self.prepare)
        self.prepare = None
        self.set_interval(10, self.check_periodic)

    # -- what shows an actor -------------------------------------------------------------

    @property
    def selected(self) -> ActorState | None:
        name = self.query_one(ActorsPane).selected
        return self.states.get(name) if name else None

    def status_of(self, name: str) -> ActorStatus:
        """What runs for the actor, else what its last audit found."""
        return self.tasks.status(name) or self.states[name].status

    def show(self, state: ActorState, *, tree: bool = False) -> None:
        """Redraw what shows this actor: its row, and the header/tree when it is selected."""
        self.query_one(ActorsPane).refresh_actor(state.name)
        if self.selected is not state:
            return
        activity = self.tasks.status(state.name)
        header = self.query_one(ActorHeader)
        header.actor = state.name
        error = state.error if state.status == ActorStatus.ERROR and not activity else ""
        header.message = state.message or error
        header.busy = activity in (ActorStatus.SYNCING, ActorStatus.RESTORING)
        limit = self.engine.throttle.limit  # the process's, shared by every actor's transfers
        bwlimit = f" · bwlimit {limit.text}" if limit else ""
        header.options = state.options_line(self.dry_run) + bwlimit
        if tree:
            tree_view = self.query_one(DiscrepancyTree)
            tree_view.show_model(state.model, state.marks, state.tree_note(activity), state.name)

    def tell(self, message: str) -> None:
        """A remark in the actor's header (it wraps), not a toast over a dialog or the log."""
        state = self.selected
        if state is not None and self.tasks.status(state.name) != ActorStatus.SYNCING:
            self.say(state, message)  # not over the sync's progress
        else:
            self.notify(message, timeout=3)

    def say(self, state: ActorState, message: str) -> None:
        """Show a message in the actor's header that clears itself after 5 seconds."""
        state.message = message
        self.show(state)

        def clear() -> None:
            if state.message == message:
                state.message = ""
                self.show(state)

        self.schedule(MESSAGE_SECONDS, clear)

    def _options(self, state: ActorState, *, marks: bool, direction: str = "both") -> SyncOptions:
        return state.sync_options(dry_run=self.dry_run, marks=marks, direction=direction)

    # -- workers -------------------------------------------------------------------------

    def _run_task(self, task: Task, job: Callable[[], None]) -> None:
        """An actor's task: one worker in the actor's group, on the engine's runner, so
        cancelling the worker (or the task) cancels the call's token."""
        work = run_cancellable(lambda _: job(), cancel=task.token)
        task.worker = self.run_worker(
            work,
            name=str(task),
            group=task.group,
            description=str(task),
            exclusive=True,
            exit_on_error=False,
        )

    @work(thread=True, group="actors", description="list actors", exit_on_error=False)
    def _list_actors(self, prepare: Callable[[], object] | None = None) -> None:
        self.adapter.list_actors(prepare)

    def _replan(self, name: str) -> None:
        """Plan again from the kept audit (the choices changed), off the UI thread."""
        state = self.states[name]
        if state.audit is not None:
            options = self._options(state, marks=False)
            self._plan(partial(self.adapter.replan, name, state.audit, options), name, "plan")

    def _plan(self, job: Callable[[], None], name: str, description: str) -> None:
        self.run_worker(
            job, group=f"plan:{name}", description=description, thread=True, exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of a bug: log it, tell the user, and unstick the actor."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        message = f"{worker.description}: {type(worker.error).__name__}: {worker.error}"
        self.adapter.line("error", message)
        self.notify(message, severity="error", timeout=10)
        task = self.tasks.of_worker(worker)
        error = str(worker.error)
        if task is not None and task.kind == TaskKind.AUDIT:
            self.post_message(AuditFinished(task.actor, error=error, task=task))
        elif task is not None and task.kind == TaskKind.RESTORE:
            self.post_message(RestoreFinished(task.actor, "", error=error, task=task))
        elif task is not None:
            self.post_message(SyncFinished(task.actor, None, error, task=task))

    # -- actors and audits ---------------------------------------------------------------

    def on_actors_listed(self, event: ActorsListed) -> None:
        if event.error:
            self.adapter.line("error", event.error)
            self.notify(event.error, severity="error", timeout=10)
        names = list(event.names)
        if self.initial_actor and self.initial_actor not in names:
            names.append(self.initial_actor)
        new = [name for name in names if name not in self.states]  # a refresh adds these
        for name in new:
            self.states[name] = ActorState(name)
        pane = self.query_one(ActorsPane)
        pane.set_actors(self.states.values())
        if self.initial_actor:
            pane.select(self.initial_actor)
        if not self.states:
            # No bucket configured, or nothing found: the screen says which.
            note = event.error or f"no actors under {self.settings.actors_dir} or in the bucket"
            self.query_one(DiscrepancyTree).show_model(None, set(), note)
            self.query_one(ActorHeader).message = note  # the header wraps; a tree line is cut
        for name in new:
            self.queue_audit(name)
        if not isinstance(self.focused, Input):
            self.query_one(DiscrepancyTree).focus()

    def queue_audit(self, name: str, *, first: bool = False) -> None:
        if self.tasks.queue_audit(name, first=first):
            self.show(self.states[name], tree=True)
            self._pump_audits()

    def _pump_audits(self) -> None:
        """Bounded concurrency: at most `audit_concurrency` actors audited at once."""
        for task in self.tasks.start_audits():
            state = self.states[task.actor]
            self.show(state, tree=True)
            options = self._options(state, marks=False)
            self._run_task(task, partial(self.adapter.audit, task, options))

    def on_audit_finished(self, event: AuditFinished) -> None:
        state = self.states.get(event.actor)
        if event.task is not None:
            if not self.tasks.finish(event.task):
                return  # cancelled and replaced by a sync, which re-audits when done
            self._pump_audits()
        if state is None:
            return
        if event.error:
            state.status, state.error = ActorStatus.ERROR, event.error
        elif event.cancelled:
            self.say(state, "audit cancelled")
        elif event.audit is not None and event.plan is not None and event.model is not None:
            state.set_planned(event.audit, event.plan, event.model)
        if state is self.selected and event.task is not None:
            self.query_one(ProgressPanel).show(None)
        self.show(state, tree=True)

    @on(OptionList.OptionHighlighted, "#actor-list")
    def _actor_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        state = self.states.get(event.option.id or "")
        if state is not None:
            self.show(state, tree=True)

    @on(OptionList.OptionSelected, "#actor-list")
    def _actor_chosen(self) -> None:
        self.query_one(DiscrepancyTree).focus()

    def on_discrepancy_tree_marks_changed(self) -> None:
        if self.selected is not None:
            self.show(self.selected)

    # -- sync ----------------------------------------------------------------------------

    def action_sync(self, direction: str = "both") -> None:
        state = self.selected
        if state is not None:
            self.start_sync(state, self._options(state, marks=True, direction=direction))

    @on(Button.Pressed, "#sync-button")
    def _sync_button(self) -> None:
        """The seed's button: everything, whatever is marked."""
        state = self.selected
        if state is not None:
            self.start_sync(state, self._options(state, marks=False))

    def start_sync(self, state: ActorState, options: SyncOptions) -> None:
        task = self.tasks.start_sync(state.name)  # a running audit is cancelled: sync audits
        if task is None:
            self.tell(f"{state.name} is already {self.tasks.status(state.name)}")
            return
        what = "Dry run" if options.dry_run else "Syncing"
        scope = "" if options.selection.is_everything else " (selection)"
        state.message = f"{what}{scope}…"
        self.query_one(ProgressPanel).show(None)
        self.show(state)
        self.adapter.line("info", f"{state.name}: {what.lower()}{scope} started")
        self._run_task(task, partial(self.adapter.sync, task, options))

    def on_sync_finished(self, event: SyncFinished) -> None:
        state = self.states.get(event.actor)
        if not self.tasks.finish(event.task) or state is None:
            return
        report = event.report
        if report is not None and not report.dry_run and not report.cancelled:
            state.used_choices(event.choices, report.errors)
        text, level = summary(report, event.error, event.selection)
        self.adapter.line(level, f"{event.actor}: {text}")
        self.say(state, text)
        if self.selected is state:
            self.query_one(ProgressPanel).show(None)
        self.queue_audit(state.name, first=True)
        # Another dialog open (or a periodic run that ended under it): the header says it.
        if event.refused is not None and len(self.app.screen_stack) == 1:
            why = report.errors[-1] if report is not None and report.errors else event.error
            self._offer_force(state, event.refused, why)

    @work(group="dialog", exit_on_error=False, description="the delete guard's question")
    async def _offer_force(self, state: ActorState, refused: SyncOptions, why: str) -> None:
        """The guard refused a sync the user started: y runs that same sync once, forced (the
        CLI's --force; the app has no flag to pass)."""
        if not await self.app.push_screen_wait(GuardScreen(state.name, why)):
            self.tell("nothing changed: the guard stays")
            return
        self.adapter.line("warning", f"{state.name}: sync past the delete guard (forced)")
        self.start_sync(state, replace(refused, force=True))

    def on_stage_changed(self, event: StageChanged) -> None:
        state = self.states.get(event.actor)
        activity = self.tasks.status(event.actor)
        if state is not None and activity == ActorStatus.SYNCING:
            what = "Dry run" if self.dry_run else "Syncing"
            state.message = f"{what}: {event.text}"
            self.show(state)
        elif state is not None and activity == ActorStatus.AUDITING and state is self.selected:
            # An audit hashing a big file says so, not "idle" (a late stage is ignored).
            self.query_one(ProgressPanel).text = f"auditing: {event.text}"

    def on_progress_changed(self, event: ProgressChanged) -> None:
        state = self.selected
        if state is not None and state.name == event.actor:
            self.query_one(ProgressPanel).show(event.progress, event.current)

    def on_log_lines(self, event: LogLines) -> None:
        self.query_one(LogPane).add_lines(event.lines)

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

    def on_restore_finished(self, event: RestoreFinished) -> None:
        """Whatever happened, the actor is free again and audited afresh (disk and S3 changed)."""
        state = self.states.get(event.actor)
        if not self.tasks.finish(event.task) or state is None:
            return
        actor, report = event.actor, event.report
        run = f"restore {event.stamp}" if event.stamp else "restore"  # no stamp: a dead worker
        if event.cancelled:
            said = f"{run} cancelled: what came back stays, the rest is still in the trash"
            self.adapter.line("warning", f"{actor}: {said}")
        elif report is None:
            said = f"restore failed: {event.error}"
            self.adapter.line("error", f"{actor}: {run}: {event.error}")
        else:
            lines = restore_lines(report)
            for level, text in lines:
                self.adapter.line(level, f"{actor}: {text}")
            said = lines[0][1]
        state.message = ""
        self.show(state, tree=True)
        self.tell(said)
        self.queue_audit(actor, first=True)

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

    def check_periodic(self) -> None:
        now = self.clock()
        for state in list(self.states.values()):
            if self.tasks.of(state.name) is None and state.periodic_due(now):
                self.start_sync(state, SyncOptions(dry_run=self.dry_run))

    def action_focus_actors(self) -> None:
        self.query_one("#actor-list").focus()

    def action_refresh_actors(self) -> None:
        self.tell("looking for new actors…")
        self._list_actors()

    def action_filter(self) -> None:
        self.query_one(ActorsPane).open_filter()

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
            ("Sync", "The Sync button (tab, enter): audit, then sync everything"),
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

    def action_cancel(self) -> None:
        """escape: the selected actor's task only (another may be scrolled out of view)."""
        if isinstance(self.focused, Input):  # escape in the filter closes it
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
