"""Between the app and the engine: blocking engine calls for thread workers, engine events
turned into (batched, throttled) Textual messages, and the log file. Each call gets its
`Task` (app/tasks.py) and stops when the task's token is cancelled. No widget is touched
here; everything reaches the UI through `post`.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.message import Message as TextualMessage

from trainsync_tui.app.messages import (
    ActorsListed,
    AuditFinished,
    DeletionsPlanned,
    HistoryLoaded,
    LocalActorsFound,
    LogLines,
    ProgressChanged,
    RestoreFinished,
    StageChanged,
    SyncFinished,
)
from trainsync_tui.app.models.progress_estimate import ProgressEstimate
from trainsync_tui.app.models.tree_model import build_model
from trainsync_tui.app.tasks import Task
from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.errors import CancelledSync, TrainsyncError
from trainsync_tui.engine.events import (
    Event,
    FileDone,
    FileFailed,
    FileStarted,
    Message,
    Progress,
    ProgressThrottle,
    ScanProgress,
    Stage,
)
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.build import Category
from trainsync_tui.engine.run.audit import Audit
from trainsync_tui.engine.run.kept import pending_resumes
from trainsync_tui.engine.run.report import KeptForResume
from trainsync_tui.engine.run.restore import TrashStamp, list_trash, restore_trash, trash_notes
from trainsync_tui.engine.s3.client_on_use import ClientOnUse
from trainsync_tui.engine.s3.listing import RemoteScan

Post = Callable[[TextualMessage], Any]
FREEZE_ABOVE = 20_000  # paths: below that a full GC pass is a few ms and nothing to fix
REDRAW_SECONDS = 0.25  # progress and log batches reach the UI at most 4 times a second
_STAGES = {
    "scan": "scanning",
    "hash": "hashing",
    "list": "listing S3",
    "plan": "planning",
    "transfer": "transferring",
    "manifest": "writing manifest",
}


class LogFile:
    """Appends log lines to a file from a writer thread, so the UI thread never waits on disk."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def write(self, level: str, text: str) -> None:
        if self.path is None:
            return
        stamp = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{stamp} {level.upper():7} {text}\n"
        with self._start_lock:  # engine threads log at once: one writer, one open file
            if self._closed:  # a cancelled sync ending after the app: its last lines count
                self._append(line)
                return
            self._queue.put(line)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trainsync-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                while (line := self._queue.get()) is not None:
                    out.write(line)
                    if self._queue.empty():
                        out.flush()
        except OSError:
            self.path = None  # a log file we cannot write must not take the app down

    def _append(self, line: str) -> None:
        assert self.path is not None
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
        except OSError:
            self.path = None

    def close(self) -> None:
        """Flush what is queued; later lines are appended one by one, from their thread."""
        with self._start_lock:  # held: lines appended later come after the queued ones
            self._closed = True
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=2)


class EventForwarder:
    """The engine's sink for one task: the engine's ProgressThrottle hands it a batch at most 4
    times a second, which becomes one message of log lines, the stage and the progress."""

    def __init__(self, actor: str, post: Post, log: LogFile) -> None:
        self.actor = actor
        self.post = post
        self.log = log
        self._throttle = ProgressThrottle(interval=REDRAW_SECONDS, batches=self._forward)
        self._lock = threading.Lock()  # a batch from an engine thread, the last one from ours
        self._current = ""
        self._inflight: dict[str, int] = {}  # path -> size, of the transfers under way
        self._estimate = ProgressEstimate()  # speed and ETA from the last seconds, not the mean
        self.failed: set[str] = set()

    def __call__(self, event: Event) -> None:
        self._throttle(event)

    def flush(self) -> None:
        """Post what is held back; called once when the task ends."""
        self._throttle.flush()

    def _forward(self, events: list[Event]) -> None:
        lines: list[tuple[str, str]] = []
        progress: Progress | None = None
        stage = ""
        with self._lock:
            for event in events:
                line = _line(event)
                if isinstance(event, FileFailed):
                    self.failed.add(event.path)
                if isinstance(event, FileDone | FileFailed):
                    self._inflight.pop(event.path, None)
                if line is not None:
                    text = f"{self.actor}: {line[1]}"
                    lines.append((line[0], text))
                    self.log.write(line[0], text)
                elif isinstance(event, FileStarted):
                    self._current = event.path
                    self._inflight[event.path] = event.size
                elif isinstance(event, Progress):
                    progress = event
                else:
                    stage = _stage(event) or stage
            # "now:" names the biggest transfer under way (the one the ETA waits for), not
            # the small file that happened to start last.
            inflight = self._inflight
            current = max(inflight, key=inflight.__getitem__) if inflight else self._current
        if lines:
            self.post(LogLines(lines))
        if stage:
            self.post(StageChanged(self.actor, stage))
        if progress is not None:
            estimate = self._estimate.update(progress)
            self.post(ProgressChanged(self.actor, progress, current, estimate))


def _line(event: Event) -> tuple[str, str] | None:
    if isinstance(event, FileDone):
        return ("info", event.message)
    if isinstance(event, FileFailed):
        return ("error", f"{event.path}: {event.error}")
    if isinstance(event, Message):
        return (event.level, event.text)
    return None


def _stage(event: Event) -> str:
    if isinstance(event, Stage) and event.stage in _STAGES:
        return _STAGES[event.stage] + (f" ({event.detail})" if event.detail else "")
    if isinstance(event, ScanProgress) and event.source == "hash":
        total = f"/{event.total:,}" if event.total else ""
        return f"hashing {event.done:,}{total} files"
    if isinstance(event, ScanProgress) and event.source == "s3":
        return f"listing S3: {event.done:,} objects"
    return ""


class EngineAdapter:
    """Blocking front-door calls for thread workers; each posts its outcome as a message."""

    def __init__(self, engine: Engine, post: Post, log_path: Path | None) -> None:
        self.engine = engine
        self.post = post
        self.log = LogFile(log_path, engine.clock)

    def line(self, level: str, text: str) -> None:
        """A log line of the app's own (not from an engine event): pane and file."""
        self.log.write(level, text)
        self.post(LogLines([(level, text)]))

    # -- thread-worker bodies ------------------------------------------------------------

    def list_actors(self, prepare: Callable[[], object] | None = None) -> None:
        """`prepare` (the demo's S3 and sample data) runs first, here: the screen is drawn
        meanwhile instead of staying blank for seconds."""
        try:
            if prepare is not None:
                prepare()
            self.post(LocalActorsFound(self.engine.local_actor_names()))  # S3 may say nothing
            names = self.engine.actor_names(on_skip=lambda text: self.line("warning", text))
        except TrainsyncError as exc:
            # S3 unreachable or misconfigured: still show the local actors (marked "S3
            # unknown", the error beside them) rather than an empty screen; logged there.
            self.post(ActorsListed(self.engine.local_actor_names(), str(exc)))
            return
        try:  # one listing for every actor's audit: one deadline, not one per actor
            self.post(ActorsListed(names, fleet=self.engine.shared_listing(names)))
        except TrainsyncError as exc:
            self.post(ActorsListed(names, str(exc)))

    def audit(
        self, task: Task, options: SyncOptions, fleet: Mapping[str, RemoteScan] | None = None
    ) -> None:
        """`fleet`: the actors' shared listing (ActorsListed), while it is still fresh."""
        actor = task.actor
        forward = EventForwarder(actor, self.post, self.log)
        try:
            layout = self.engine.actor(actor)
            audit = self.engine.audit(layout, cancel=task.token, sink=forward, fleet=fleet)
            kept = self._kept_for_resume(layout, task)
            if kept:
                forward(Message(actor, "info", f"{kept.text()}; the next sync goes on from there"))
            self.replan(actor, audit, options, task)
        except CancelledSync:
            self.post(AuditFinished(actor, cancelled=True, task=task))
        except TrainsyncError as exc:
            self.log.write("error", str(exc))
            self.post(AuditFinished(actor, error=str(exc), task=task))
        finally:
            forward.flush()

    def _kept_for_resume(self, layout: ActorLayout, task: Task) -> KeptForResume:
        """What an interrupted run left for the actor's next sync (`audit` lists the same);
        the client is made only if the journal names an upload to ask S3 about (an audit
        from the shared listing made none)."""
        client = ClientOnUse(lambda: self.engine.client_for(task.token))
        return pending_resumes(layout, client, self.engine.settings.require_bucket())

    def replan(
        self, actor: str, audit: Audit, options: SyncOptions, task: Task | None = None
    ) -> None:
        """Plan from a kept audit (options changed); pure, but 100k paths is not UI-thread work."""
        plan = self.engine.plan(
            audit,
            SyncOptions(
                conflict=options.conflict,
                delete_orphans=options.delete_orphans,
                resolutions=options.resolutions,
            ),
        )
        model = build_model(plan)
        freeze_big_heap(plan.total_paths)
        self.post(AuditFinished(actor, audit, plan, model, task=task))

    def sync(self, task: Task, options: SyncOptions) -> None:
        actor = task.actor
        forward = EventForwarder(actor, self.post, self.log)
        what = "dry run" if options.dry_run else "sync"
        self.log.write("info", f"{actor}: {what} started {options.to_json()}")
        try:
            report = self.engine.sync(
                self.engine.actor(actor), options, cancel=task.token, sink=forward
            )
        except TrainsyncError as exc:
            self.log.write("error", f"{actor}: {exc}")
            self.post(SyncFinished(actor, None, str(exc), options.selection, task=task))
            return
        finally:
            forward.flush()
        for error in report.errors:
            if error.split(":", 1)[0] not in forward.failed:  # path errors were logged live
                self.line("error", f"{actor}: {error}")
        how = "cancelled after" if report.cancelled else "finished"
        self.log.write("info", f"{actor}: {what} {how} {report.to_json()['duration_s']} s")
        self.post(
            SyncFinished(
                actor,
                report,
                selection=options.selection,
                task=task,
                choices=options.resolutions,
                refused=options if report.refused_by_guard and not options.force else None,
            )
        )

    def plan_deletions(self, actor: str, audit: Audit, options: SyncOptions) -> None:
        plan = self.engine.plan(
            audit,
            SyncOptions(
                delete_orphans=True, resolutions=options.resolutions, conflict=options.conflict
            ),
        )
        deletions = [
            (a.path, "local" if a.category == Category.DELETE_LOCAL else "s3", a_size(a))
            for a in plan.actions
            if a.category in (Category.DELETE_LOCAL, Category.DELETE_S3)
        ]
        self.post(DeletionsPlanned(actor, deletions, plan.total_paths))

    def history(self, actor: str | None) -> None:
        self.post(HistoryLoaded(actor, self.engine.history(actor)))

    def trash(self, actor: str) -> tuple[list[TrashStamp], list[str]]:
        """The actor's trash by sync run, and what a user must know beside it (blocking: the
        sizes stat every local file)."""
        return list_trash(self.engine, self.engine.actor(actor)), trash_notes(self.engine)

    def restore(self, task: Task, stamp: str) -> None:
        """Put one sync run's trashed files back (both sides); esc cancels the task's token."""
        actor = task.actor
        try:
            layout = self.engine.actor(actor)
            report = restore_trash(self.engine, layout, stamp, cancel=task.token)
        except CancelledSync:
            self.post(RestoreFinished(actor, stamp, cancelled=True, task=task))
        except TrainsyncError as exc:
            self.post(RestoreFinished(actor, stamp, error=str(exc), task=task))
        else:
            self.post(RestoreFinished(actor, stamp, report, task=task))


def freeze_big_heap(paths: int) -> None:
    """After a big audit + plan + tree model (~10 long-lived objects per path), move what
    exists into the permanent generation: Python's full collections stop walking ~1M
    objects (the 0.1-0.5 s pauses of the UI thread during a sync). Objects are still freed by
    reference counting when a new plan replaces them; only cyclic garbage made before the
    call is kept, and this code makes little."""
    if paths >= FREEZE_ABOVE:
        gc.freeze()


def a_size(action: Any) -> int:
    side = action.local if action.category == Category.DELETE_LOCAL else action.remote
    return int(side.size) if side is not None else 0
