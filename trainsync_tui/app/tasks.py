"""The one owner of what runs for each actor: a queue of audits waiting for a slot, the
task running per actor (at most one: an audit, a sync or a restore), and its CancelToken.

Only the UI thread touches a `Tasks`. Every task has one lifecycle: `start_*` makes it, the
main screen runs it as one worker in the actor's group (`Task.worker`), the worker's thread
gets the `Task` and checks its token (thread-safe), and its outcome comes back as a message
naming the task, which `finish` ends; an answer from a task that was cancelled and replaced is
recognised and dropped. A worker that dies of a bug is found again with `of_worker`.

Cancel is the token: `cancel` sets it; Textual cancelling the worker (the app's exit,
`workers.cancel_group` on the actor's group) sets it too, through the engine's runner.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from trainsync_tui.engine.cancel import CancelToken

if TYPE_CHECKING:
    from textual.worker import Worker


class ActorStatus(StrEnum):
    """What the actors list says about an actor: a task under way, else its last audit."""

    NEVER = "never"
    QUEUED = "queued"
    AUDITING = "auditing"
    SYNCING = "syncing"
    RESTORING = "restoring"
    OK = "ok"
    DIFF = "diff"
    CONFLICTS = "conflicts"
    PROBLEMS = "problems"  # the audit ran, but paths were refused or failed: CLI exits 1
    ERROR = "error"  # the audit could not run at all

    @property
    def busy(self) -> bool:
        return self in (
            ActorStatus.QUEUED,
            ActorStatus.AUDITING,
            ActorStatus.SYNCING,
            ActorStatus.RESTORING,
        )


class TaskKind(StrEnum):
    AUDIT = "audit"
    SYNC = "sync"
    RESTORE = "restore"


@dataclass(eq=False)
class Task:
    kind: TaskKind
    actor: str
    token: CancelToken = field(default_factory=CancelToken)
    worker: Worker[Any] | None = None  # the one that runs it, once the screen started it

    @property
    def group(self) -> str:
        """The actor's worker group: one task's worker at a time (the screen's are exclusive)."""
        return f"actor:{self.actor}"

    @property
    def status(self) -> ActorStatus:
        return _STATUS_OF[self.kind]

    def __str__(self) -> str:
        return f"{self.kind} {self.actor}"


_STATUS_OF = {
    TaskKind.AUDIT: ActorStatus.AUDITING,
    TaskKind.SYNC: ActorStatus.SYNCING,
    TaskKind.RESTORE: ActorStatus.RESTORING,
}


class Tasks:
    """Audits wait in one queue and run `audit_limit` at a time; a sync starts at once,
    replacing the actor's audit (it audits afresh anyway)."""

    def __init__(self, audit_limit: int) -> None:
        self.audit_limit = max(1, audit_limit)
        self.waiting: deque[str] = deque()
        self.running: dict[str, Task] = {}

    def of(self, actor: str) -> Task | None:
        return self.running.get(actor)

    def of_worker(self, worker: Worker[Any]) -> Task | None:
        """The running task that `worker` runs (None once it was finished or replaced)."""
        return next((t for t in self.running.values() if t.worker is worker), None)

    def status(self, actor: str) -> ActorStatus | None:
        """SYNCING, RESTORING, AUDITING or QUEUED while something is under way, else None."""
        task = self.running.get(actor)
        if task is not None:
            return task.status
        return ActorStatus.QUEUED if actor in self.waiting else None

    @property
    def idle(self) -> bool:
        return not self.waiting and not self.running

    def queue_audit(self, actor: str, *, first: bool = False) -> bool:
        """False when the actor already has a task under way or waiting."""
        if actor in self.running or actor in self.waiting:
            return False
        if first:
            self.waiting.appendleft(actor)
        else:
            self.waiting.append(actor)
        return True

    def start_audits(self) -> list[Task]:
        """Take audits off the queue while there are free slots; the caller runs them."""
        started: list[Task] = []
        audits = sum(1 for t in self.running.values() if t.kind == TaskKind.AUDIT)
        while self.waiting and audits < self.audit_limit:
            task = Task(TaskKind.AUDIT, self.waiting.popleft())
            self.running[task.actor] = task
            started.append(task)
            audits += 1
        return started

    def start_sync(self, actor: str) -> Task | None:
        """None when the actor is already syncing or restoring."""
        current = self.running.get(actor)
        if current is not None and current.kind != TaskKind.AUDIT:
            return None
        if current is not None:
            current.token.cancel()
        if actor in self.waiting:
            self.waiting.remove(actor)
        task = self.running[actor] = Task(TaskKind.SYNC, actor)
        return task

    def start_restore(self, actor: str) -> Task | None:
        """None when anything runs for the actor: a restore writes where a sync or audit looks."""
        if actor in self.running:
            return None
        if actor in self.waiting:
            self.waiting.remove(actor)
        task = self.running[actor] = Task(TaskKind.RESTORE, actor)
        return task

    def finish(self, task: Task | None) -> bool:
        """The task's worker ended; False when it had already been replaced or cancelled."""
        if task is None or self.running.get(task.actor) is not task:
            return False
        del self.running[task.actor]
        return True

    def cancel(self, actor: str | None = None) -> list[str]:
        """Cancel what runs (and drop what waits) for one actor, or all; says what it did."""
        done: list[str] = []
        for name in [actor] if actor is not None else list(self.running):
            task = self.running.get(name)
            if task is not None:
                task.token.cancel()
                done.append(str(task))
        for name in [actor] if actor is not None else list(self.waiting):
            if name in self.waiting:
                self.waiting.remove(name)
                done.append(f"queued audit {name}")
        return done
