"""The screen under every action: the actors, the selected actor's header, discrepancy tree and
progress, and the live log; each actor's audit, sync and restore run through `Tasks` as one
worker each, and what the engine answers is shown here. `MainScreen` adds what the keys do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList
from textual.worker import Worker, WorkerState

from trainsync_tui.app.adapter import EngineAdapter
from trainsync_tui.app.glyphs import Glyphs
from trainsync_tui.app.messages import (
    ActorsListed,
    AuditFinished,
    LocalActorsFound,
    LogLines,
    ProgressChanged,
    RestoreFinished,
    StageChanged,
    SyncFinished,
)
from trainsync_tui.app.models.actor_state import ActorState, Remote
from trainsync_tui.app.summaries import restore_lines, summary
from trainsync_tui.app.tasks import ActorStatus, Task, TaskKind, Tasks
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.progress import ProgressPanel
from trainsync_tui.engine.cancel import run_cancellable
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import plural
from trainsync_tui.engine.s3.listing import RemoteScan
from trainsync_tui.engine.s3.request_guard import NOTICE_AFTER

Schedule = Callable[[float, Callable[[], None]], Any]
MESSAGE_SECONDS = 5.0  # a remark in the header clears itself after this


class ActorsScreen(Screen[None]):
    """The actors and their tasks: the state of each, what shows it, the workers that audit,
    sync and restore it, and what they answer."""

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
        # Audits wait for the first listing of S3, which brings every actor's objects in
        # one request: a silent S3 costs that one deadline, not one per actor.
        self.s3_listed = False
        self._fleet: Mapping[str, RemoteScan] | None = None
        self._fleet_fresh: set[str] = set()  # actors whose S3 side nothing changed since

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
        self.set_interval(1, self.show_s3_wait)

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
        header.state = state.describe(activity)  # the list's row has only glyphs and counts
        error = state.error if state.status == ActorStatus.ERROR and not activity else ""
        header.message = state.message or error
        header.busy = activity in (ActorStatus.SYNCING, ActorStatus.RESTORING)
        limit = self.engine.throttle.limit  # the process's, shared by every actor's transfers
        bwlimit = f" · bwlimit {limit.text}" if limit else ""
        header.options = state.options_line(self.dry_run) + bwlimit
        if tree:
            tree_view = self.query_one(DiscrepancyTree)
            tree_view.show_model(state.model, state.marks, state.tree_note(activity), state.name)

    def show_s3_wait(self) -> None:
        """Each second: how long S3 has said nothing, as the engine's request guards see it."""
        silence = self.engine.s3_silence()
        text = ""
        if silence is not None and silence.waited >= NOTICE_AFTER:
            text = f"waiting for S3 ({silence.counted()})"
        self.query_one(ActorHeader).s3_wait = text

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

    def on_local_actors_found(self, event: LocalActorsFound) -> None:
        """The local actors at once: their audits wait for S3's listing, which may not come."""
        self._add_actors(event.names)

    def on_actors_listed(self, event: ActorsListed) -> None:
        self.s3_listed = True
        self.query_one(ActorHeader).s3_wait = ""
        if event.error:
            self.adapter.line("error", event.error)
            self.notify(event.error, severity="error", timeout=10)
        # For the audits that wait for it (a refresh: the new actors'), not for those done.
        waiting = {*self.tasks.waiting, *(n for n in event.names if n not in self.states)}
        self._fleet = event.fleet
        self._fleet_fresh = waiting if event.fleet is not None else set()
        self._add_actors(event.names)
        for state in self.states.values():
            if state.remote != Remote.WAITING:
                continue
            if event.error:
                # S3 failed once for all: an audit of each would wait the deadline again.
                self.tasks.cancel(state.name)
                state.remote, state.status = Remote.UNKNOWN, ActorStatus.ERROR
                state.error = event.error
            else:
                state.remote = Remote.KNOWN
            self.show(state, tree=True)
        if not self.states:
            # No bucket configured, or nothing found: the screen says which.
            note = event.error or f"no actors under {self.settings.actors_dir} or in the bucket"
            self.query_one(DiscrepancyTree).show_model(None, set(), note)
            self.query_one(ActorHeader).message = note  # the header wraps; a tree line is cut
        self._pump_audits()

    def _add_actors(self, found: Iterable[str]) -> None:
        """Show the actors not shown yet, in name order, and queue their audits."""
        names = set(found)
        if self.initial_actor:
            names.add(self.initial_actor)
        new = names.difference(self.states)  # a refresh adds these
        if not new:
            return
        waiting = Remote.KNOWN if self.s3_listed else Remote.WAITING
        for name in new:
            self.states[name] = ActorState(name, remote=waiting)
        self.states = dict(sorted(self.states.items()))
        pane = self.query_one(ActorsPane)
        pane.set_actors(self.states.values())
        if self.initial_actor:
            pane.select(self.initial_actor)
        for name in sorted(new):
            self.queue_audit(name)
        if not isinstance(self.focused, Input):
            self.query_one(DiscrepancyTree).focus()

    def queue_audit(self, name: str, *, first: bool = False) -> None:
        """`first`: the user's `r`, or after a sync or restore: S3 is listed afresh."""
        if first:
            self._take_fleet(name)
        if self.tasks.queue_audit(name, first=first):
            self.show(self.states[name], tree=True)
            self._pump_audits()

    def _pump_audits(self) -> None:
        """Bounded concurrency: at most `audit_concurrency` actors audited at once, none
        before S3's first listing (or its failure) is in."""
        if not self.s3_listed:
            return
        for task in self.tasks.start_audits():
            state = self.states[task.actor]
            self.show(state, tree=True)
            options = self._options(state, marks=False)
            fleet = self._take_fleet(task.actor)
            self._run_task(task, partial(self.adapter.audit, task, options, fleet))
        if not self.tasks.waiting:  # every audit that was to use the listing has it
            self._fleet, self._fleet_fresh = None, set()

    def _take_fleet(self, name: str) -> Mapping[str, RemoteScan] | None:
        """The shared listing while it still holds the actor's S3 side: for its first audit;
        later ones (a sync or restore changed S3 meanwhile) list afresh."""
        fleet = self._fleet if name in self._fleet_fresh else None
        self._fleet_fresh.discard(name)
        if not self._fleet_fresh:
            self._fleet = None  # every actor's objects, held no longer than needed
        return fleet

    def on_audit_finished(self, event: AuditFinished) -> None:
        state = self.states.get(event.actor)
        if event.task is not None:
            if not self.tasks.finish(event.task):
                return  # cancelled and replaced by a sync, which re-audits when done
            self._pump_audits()
        if state is None:
            return
        if event.error:  # the audit's own error now, not the listing's
            state.status, state.error, state.remote = ActorStatus.ERROR, event.error, Remote.KNOWN
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

    # -- syncs and restores: what they answer -----------------------------------------

    def sync_actor(self, state: ActorState, direction: str = "both") -> None:
        """Every way a user starts a sync of an actor (its key, the Sync button, the palette)
        comes here: with marks present the sync is of the marks, never everything behind
        them (the header's options line says "N marked")."""
        self.start_sync(state, self._options(state, marks=True, direction=direction))

    def start_sync(self, state: ActorState, options: SyncOptions) -> None:
        """Run a sync of exactly `options` (sync_actor decides them from the marks)."""
        task = self.tasks.start_sync(state.name)  # a running audit is cancelled: sync audits
        self._take_fleet(state.name)  # the sync changes S3: no audit of it uses the listing
        if task is None:
            self.tell(f"{state.name} is already {self.tasks.status(state.name)}")
            return
        what = "Dry run" if options.dry_run else "Syncing"
        scope = ""
        if not options.selection.is_everything:  # u and d select by direction, not marks
            marked = plural(len(state.marks), "marked item")
            scope = f" ({marked})" if state.marks else " (selection)"
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
        if event.refused is not None:
            why = report.errors[-1] if report is not None and report.errors else event.error
            self.sync_refused(state, event.refused, why)

    def sync_refused(self, state: ActorState, refused: SyncOptions, why: str) -> None:
        """The delete guard refused a sync the user started (MainScreen offers to force it)."""

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
            self.query_one(ProgressPanel).show(event.progress, event.current, event.estimate)

    def on_log_lines(self, event: LogLines) -> None:
        self.query_one(LogPane).add_lines(event.lines)

    def on_restore_finished(self, event: RestoreFinished) -> None:
        """Whatever happened, the actor is free again and audited afresh (disk and S3 changed)."""
        state = self.states.get(event.actor)
        self._take_fleet(event.actor)  # S3 changed: the audit after it lists afresh
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

    def check_periodic(self) -> None:
        now = self.clock()
        for state in list(self.states.values()):
            if self.tasks.of(state.name) is None and state.periodic_due(now):
                # Unattended: no deletions or conflict choices, but the marks hold here too
                # (a periodic run must not sync what the user left unmarked).
                marked = self._options(state, marks=True).selection
                self.start_sync(state, SyncOptions(dry_run=self.dry_run, selection=marked))
