"""The one owner of what runs for each actor: a queue of audits waiting for a slot, the
task running per actor (at most one), and its CancelToken.

Only the UI thread touches a `Tasks`; worker threads get their `Task` and check its
token (thread-safe), and their outcome comes back as a message naming the task, so an
answer from a task that was cancelled and replaced is recognised and dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from trainsync_tui.engine.cancel import CancelToken


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

    @property
    def group(self) -> str:
        """The actor's worker group: `workers.cancel_group` reaches all of its workers."""
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

    def status(self, actor: str) -> ActorStatus | None:
        """SYNCING, AUDITING or QUEUED while something is under way for `actor`, else None."""
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
