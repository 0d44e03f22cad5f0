"""Messages the adapter posts from worker threads to the main screen (widgets change on the UI
thread), and the terminal's `Hangup` to the app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from textual.message import Message

from trainsync_tui.app.models.progress_estimate import Estimate
from trainsync_tui.app.models.tree_model import TreeModel
from trainsync_tui.app.tasks import Task
from trainsync_tui.engine.events import Progress
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.plan.build import ConflictPolicy, Plan
from trainsync_tui.engine.plan.select import Selection
from trainsync_tui.engine.run.audit import Audit
from trainsync_tui.engine.run.history import HistoryEntry
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.run.restore import RestoreReport
from trainsync_tui.engine.s3.listing import RemoteScan


@dataclass
class LocalActorsFound(Message):
    """The actors with a local folder, shown before S3 answers (it may not)."""

    names: list[str]


@dataclass
class ActorsListed(Message):
    names: list[str]
    error: str = ""
    # Every actor's S3 objects from one listing, by prefix (Engine.shared_listing); None
    # when they could not share one or S3 failed (then `error` says how).
    fleet: Mapping[str, RemoteScan] | None = None


@dataclass
class AuditFinished(Message):
    """An audit (or a re-plan of a kept audit) is done; `error` set when it could not run."""

    actor: str
    audit: Audit | None = None
    plan: Plan | None = None
    model: TreeModel | None = None  # built off the UI thread
    error: str = ""
    cancelled: bool = False
    task: Task | None = None  # None for a re-plan, which runs outside the actor's task


@dataclass
class LogLines(Message):
    """A batch of log lines (level, text); batched so 100k file events are not 100k messages."""

    lines: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class StageChanged(Message):
    """An actor's task entered a phase; the header shows it as the progress message."""

    actor: str
    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StageChanged) and message.actor == self.actor


@dataclass
class ProgressChanged(Message):
    """Overall transfer progress of one actor; newer replaces older still in the queue."""

    actor: str
    progress: Progress
    current: str = ""
    estimate: Estimate | None = None  # speed and ETA of the last seconds (the adapter's)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProgressChanged) and message.actor == self.actor


@dataclass
class SyncFinished(Message):
    actor: str
    report: SyncReport | None
    error: str = ""
    selection: Selection | None = None  # what the sync was asked to do, for its summary
    task: Task | None = None
    choices: Mapping[str, ConflictPolicy] = field(default_factory=dict)  # the ones it ran
    # The options of a sync the delete guard refused: the app offers to run it forced.
    refused: SyncOptions | None = None


@dataclass
class RestoreFinished(Message):
    """A restore of one trash run ended: `report` when it ran, else `error` or `cancelled`."""

    actor: str
    stamp: str
    report: RestoreReport | None = None
    error: str = ""
    cancelled: bool = False
    task: Task | None = None


@dataclass
class DeletionsPlanned(Message):
    """The delete-orphans dry plan the confirmation dialog shows."""

    actor: str
    deletions: list[tuple[str, str, int]]
    total: int


@dataclass
class HistoryLoaded(Message):
    actor: str | None
    entries: list[HistoryEntry]


@dataclass
class Hangup(Message):
    """A signal arrived or the terminal went away: cancel every task and exit with `code`."""

    reason: str
    code: int = 0
