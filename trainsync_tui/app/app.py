"""The trainsync app: actors, the selected actor's discrepancy tree, live log and progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widgets import Button, Footer, Input, OptionList
from textual.worker import Worker, WorkerState

from trainsync_tui.app import bandwidth, cancelling, restoring, view
from trainsync_tui.app.adapter import EngineAdapter
from trainsync_tui.app.glyphs import AsciiScrollBarRender, Glyphs, for_terminal
from trainsync_tui.app.keys import BINDINGS, palette_commands
from trainsync_tui.app.messages import (
    ActorsListed,
    AuditFinished,
    DeletionsPlanned,
    Hangup,
    HistoryLoaded,
    LogLines,
    ProgressChanged,
    StageChanged,
    SyncFinished,
)
from trainsync_tui.app.tasks import ActorStatus, Task, TaskKind, Tasks
from trainsync_tui.app.terminal import (
    hangup_aware,
    install_signal_handlers,
    remove_signal_handlers,
)
from trainsync_tui.app.widgets import dialogs
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.progress import ProgressPanel
from trainsync_tui.app.widgets.state import ActorState
from trainsync_tui.app.widgets.summary import summary
from trainsync_tui.app.widgets.tree_model import TreeModel
from trainsync_tui.engine.cancel import run_cancellable
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.facade import Engine, SyncOptions

Schedule = Callable[[float, Callable[[], None]], Any]


class TrainsyncApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "trainsync"
    BINDINGS: ClassVar[list[BindingType]] = BINDINGS
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (80, "-wide")]

    def __init__(
        self,
        settings: Settings,
        actor: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        schedule: Schedule | None = None,
        audit_concurrency: int = 3,
        glyphs: Glyphs | None = None,
        prepare: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.glyphs = glyphs or for_terminal()  # ASCII on a terminal that is not UTF-8
        self.settings = settings
        self.initial_actor = actor
        self.clock = clock
        self.schedule: Schedule = schedule or (lambda delay, fn: self.set_timer(delay, fn))
        self.tasks = Tasks(max(1, min(4, audit_concurrency)))
        self.engine = Engine(settings, clock=clock, who="trainsync app")
        self.log_path = settings.state_dir / "logs" / "app.log"
        self.adapter = EngineAdapter(self.engine, self.post_message, self.log_path)
        self.states: dict[str, ActorState] = {}
        self.dry_run = False
        self.prepare = prepare  # runs in the first listing's thread (the demo's set-up)
        self._task_of_worker: dict[Worker[Any], Task] = {}
        self._signals: list[int] = []

    def get_driver_class(self) -> Any:
        return hangup_aware(super().get_driver_class())

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
        if not self.is_headless:  # tests run in pytest's process: its signals stay its own
            self._signals = install_signal_handlers(self)
        self.query_one("#actor-filter", Input).display = False
        if self.glyphs.ascii:
            self.add_class("-ascii")  # app.tcss: ASCII borders
            # Every scrollbar, dialogs' too; a class attribute, put back at unmount.
            ScrollBar.renderer = AsciiScrollBarRender
        tree = self.query_one(DiscrepancyTree)
        tree.show_model(None, set(), "preparing…" if self.prepare else "looking for actors…")
        tree.focus()  # not the hidden filter: q and ? must work even with no actor
        self.adapter.line("info", f"log file: {self.log_path}")
        self._start(partial(self.adapter.list_actors, self.prepare), "actors", "list actors")
        self.prepare = None
        self.set_interval(10, self.check_periodic)

    # -- helpers -------------------------------------------------------------------------

    @property
    def selected(self) -> ActorState | None:
        name = self.query_one(ActorsPane).selected
        return self.states.get(name) if name else None

    def status_of(self, name: str) -> ActorStatus:
        """What runs for the actor, else what its last audit found."""
        return self.tasks.status(name) or self.states[name].status

    def _start(self, job: Callable[[], None], name: str, description: str) -> Worker[None]:
        return self.run_worker(
            job,
            name=name,
            group=name,
            description=description,
            thread=True,
            exit_on_error=False,
        )

    def _run(
        self, task: Task, job: Callable[[Task, SyncOptions], None], options: SyncOptions
    ) -> None:
        """A task's worker runs in the actor's group; its Task is found again if it dies.
        The engine's runner: cancelling the worker (or the task) cancels the call's token."""
        work = run_cancellable(lambda _: job(task, options), cancel=task.token)
        worker = self.run_worker(
            work, name=str(task), group=task.group, description=str(task), exit_on_error=False
        )
        self._task_of_worker[worker] = task

    def _options(self, state: ActorState, *, marks: bool, direction: str = "both") -> SyncOptions:
        return state.sync_options(dry_run=self.dry_run, marks=marks, direction=direction)

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
            view.refresh(self, self.states[name], tree=True)
            self._pump_audits()

    def _pump_audits(self) -> None:
        """Bounded concurrency: at most `audit_concurrency` actors audited at once."""
        for task in self.tasks.start_audits():
            state = self.states[task.actor]
            view.refresh(self, state, tree=True)
            self._run(task, self.adapter.audit, self._options(state, marks=False))

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
            view.say(self, state, "audit cancelled")
        elif event.audit is not None and event.plan is not None:
            assert isinstance(event.model, TreeModel)
            state.set_planned(event.audit, event.plan, event.model)
        if state is self.selected and event.task is not None:
            self.query_one(ProgressPanel).show(None)
        view.refresh(self, state, tree=True)

    @on(OptionList.OptionHighlighted, "#actor-list")
    def _actor_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        state = self.states.get(event.option.id or "")
        if state is not None:
            view.refresh(self, state, tree=True)

    @on(OptionList.OptionSelected, "#actor-list")
    def _actor_chosen(self) -> None:
        self.query_one(DiscrepancyTree).focus()

    def on_discrepancy_tree_marks_changed(self) -> None:
        if self.selected is not None:
            view.refresh(self, self.selected)

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
            view.tell(self, f"{state.name} is already {self.tasks.status(state.name)}")
            return
        what = "Dry run" if options.dry_run else "Syncing"
        scope = "" if options.selection.is_everything else " (selection)"
        state.message = f"{what}{scope}…"
        self.query_one(ProgressPanel).show(None)
        view.refresh(self, state)
        self.adapter.line("info", f"{state.name}: {what.lower()}{scope} started")
        self._run(task, self.adapter.sync, options)

    def on_sync_finished(self, event: SyncFinished) -> None:
        state = self.states.get(event.actor)
        if not self.tasks.finish(event.task) or state is None:
            return
        report = event.report
        if report is not None and not report.dry_run and not report.cancelled:
            state.used_choices(event.choices, report.errors)
        text, level = summary(report, event.error, event.selection)
        self.adapter.line(level, f"{event.actor}: {text}")
        view.say(self, state, text)
        if self.selected is state:
            self.query_one(ProgressPanel).show(None)
        self.queue_audit(state.name, first=True)
        if event.refused is not None:
            why = report.errors[-1] if report is not None and report.errors else event.error
            dialogs.offer_force(self, state, event.refused, why)

    def on_stage_changed(self, event: StageChanged) -> None:
        state = self.states.get(event.actor)
        activity = self.tasks.status(event.actor)
        if state is not None and activity == ActorStatus.SYNCING:
            what = "Dry run" if self.dry_run else "Syncing"
            state.message = f"{what}: {event.text}"
            view.refresh(self, state)
        elif state is not None and activity == ActorStatus.AUDITING and state is self.selected:
            # An audit hashing a big file says so, not "idle" (a late stage is ignored).
            self.query_one(ProgressPanel).text = f"auditing: {event.text}"

    def on_progress_changed(self, event: ProgressChanged) -> None:
        state = self.selected
        if state is not None and state.name == event.actor:
            self.query_one(ProgressPanel).show(event.progress, event.current)

    def on_log_lines(self, event: LogLines) -> None:
        self.query_one(LogPane).add_lines(event.lines)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of a bug: log it, tell the user, and unstick the actor."""
        if event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self._task_of_worker.pop(event.worker, None)
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        message = f"{worker.description}: {type(worker.error).__name__}: {worker.error}"
        self.adapter.line("error", message)
        self.notify(message, severity="error", timeout=10)
        task = self._task_of_worker.pop(worker, None)
        if task is not None and task.kind == TaskKind.AUDIT:
            self.post_message(AuditFinished(task.actor, error=str(worker.error), task=task))
        elif task is not None:
            self.post_message(SyncFinished(task.actor, None, str(worker.error), task=task))

    # -- other actions (dialogs live in dialogs.py) --------------------------------------

    def action_audit(self) -> None:
        state = self.selected
        if state is not None:
            self.queue_audit(state.name, first=True)

    def action_toggle_mark(self) -> None:
        self.query_one(DiscrepancyTree).action_toggle_mark()

    def action_dry_run(self) -> None:
        self.dry_run = not self.dry_run
        view.tell(self, f"dry run {'ON: syncs change nothing' if self.dry_run else 'off'}")

    def action_periodic(self) -> None:
        state = self.selected
        if state is not None:
            every = state.cycle_period(self.clock())
            ends = f", next at {state.next_run()}; it ends when the app does"
            more = ends if state.periodic_minutes else ""
            view.say(self, state, f"periodic sync {every}{more}")

    def check_periodic(self) -> None:
        now = self.clock()
        for state in list(self.states.values()):
            if self.tasks.of(state.name) is None and state.periodic_due(now):
                self.start_sync(state, SyncOptions(dry_run=self.dry_run))

    def action_focus_actors(self) -> None:
        self.query_one("#actor-list").focus()

    def action_refresh_actors(self) -> None:
        view.tell(self, "looking for new actors…")
        self._start(self.adapter.list_actors, "actors", "list actors")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from palette_commands(self.run_action)
        yield from super().get_system_commands(screen)

    def action_filter(self) -> None:
        self.query_one(ActorsPane).open_filter()

    def action_cancel(self) -> None:
        cancelling.cancel_selected(self)

    def action_cancel_all(self) -> None:
        cancelling.cancel_all(self)

    async def action_quit(self) -> None:
        self.tasks.cancel(None)
        self.exit(0)

    def on_hangup(self, event: Hangup) -> None:
        cancelling.hang_up(self, event)

    def action_conflicts(self) -> None:
        dialogs.open_conflicts(self)

    def action_delete_orphans(self) -> None:
        dialogs.toggle_delete_orphans(self)

    def on_deletions_planned(self, event: DeletionsPlanned) -> None:
        dialogs.confirm_deletions(self, event)

    def action_restore(self) -> None:
        restoring.open_trash(self)

    def action_bandwidth(self) -> None:
        bandwidth.ask(self)

    def action_history(self) -> None:
        state = self.selected
        self._start(
            partial(self.adapter.history, state.name if state else None), "history", "read history"
        )

    def on_history_loaded(self, event: HistoryLoaded) -> None:
        dialogs.show_history(self, event)

    def action_help(self) -> None:
        dialogs.show_help(self)

    def on_unmount(self) -> None:
        if ScrollBar.renderer is AsciiScrollBarRender:
            ScrollBar.renderer = ScrollBarRender
        remove_signal_handlers(self._signals)
        running = bool(self.tasks.running)
        self.tasks.cancel(None)
        self.adapter.log.close()
        if not running:  # a cancelled sync still cleaning up keeps using the hash cache
            self.engine.close()
