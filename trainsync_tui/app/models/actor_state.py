"""What the app knows about one actor: its last audit, plan, marks and per-actor options."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trainsync_tui.app.models.tree_model import Mark, TreeModel, selection_for, still_there
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.plan.build import Category, Conflict, ConflictPolicy, Plan
from trainsync_tui.engine.plan.select import Selection, in_scope, wants
from trainsync_tui.engine.run.audit import Audit
from trainsync_tui.engine.run.report import plural

# What needs attention first when the list is sorted by state: failures, conflicts,
# differences, what runs or waits, never audited, in sync.
ATTENTION = {
    ActorStatus.ERROR: 0,
    ActorStatus.PROBLEMS: 0,
    ActorStatus.CONFLICTS: 1,
    ActorStatus.DIFF: 2,
    ActorStatus.SYNCING: 3,
    ActorStatus.RESTORING: 3,
    ActorStatus.AUDITING: 4,
    ActorStatus.QUEUED: 4,
    ActorStatus.NEVER: 5,
    ActorStatus.OK: 6,
}
PERIODS = (0, 5, 15, 60)  # minutes; `p` cycles through them for the selected actor


class Remote:
    """What the app knows of an actor's S3 side before its audit: the first listing is
    under way (the actor's audit waits for it), or it failed and S3 is unknown (the
    actor's status is then ERROR, with the listing's error, and it is not audited)."""

    KNOWN = ""
    WAITING = "waiting"
    UNKNOWN = "unknown"


@dataclass
class ActorState:
    name: str
    status: ActorStatus = ActorStatus.NEVER  # the last audit's outcome; Tasks says what runs
    audit: Audit | None = None
    plan: Plan | None = None
    model: TreeModel | None = None
    error: str = ""
    marks: set[Mark] = field(default_factory=set)
    resolutions: dict[str, ConflictPolicy] = field(default_factory=dict)
    delete_orphans: bool = False
    force: bool = False
    periodic_minutes: int = 0
    next_periodic: float = 0.0
    message: str = ""
    remote: str = Remote.KNOWN

    def describe(self, activity: ActorStatus | None = None) -> str:
        """The state word(s) the actors pane shows; symbols keep it readable without colour."""
        status = activity or self.status
        if status in (ActorStatus.SYNCING, ActorStatus.RESTORING):
            return f"⟳ {status}"
        if status == ActorStatus.QUEUED and self.remote == Remote.WAITING:
            return "… waiting for S3"
        if status in (ActorStatus.QUEUED, ActorStatus.AUDITING):
            return "… auditing" if status == ActorStatus.AUDITING else "… waiting to audit"
        if status == ActorStatus.ERROR:
            return "✗ S3 unknown" if self.remote == Remote.UNKNOWN else "✗ error"
        if self.plan is None:
            return "· never audited"
        parts = []
        if self.plan.issues:
            parts.append(f"✗ {plural(len(self.plan.issues), 'problem')}")
        if self.plan.conflicts:
            parts.append(f"! {plural(len(self.plan.conflicts), 'conflict')}")
        if self.plan.actions:
            parts.append(f"● {plural(len(self.plan.actions), 'difference')}")
        if not parts:
            return "✓ in sync"
        first, *rest = parts  # one symbol, the worst: "✗ 1 problem, 40 differences"
        return ", ".join([first, *(p[2:] for p in rest)])

    def counts(self, activity: ActorStatus | None = None) -> str:
        """The actors list's short form of `describe`, one row beside the name: "! 1 ● 40"."""
        status = activity or self.status
        if status in (ActorStatus.SYNCING, ActorStatus.RESTORING):
            return f"⟳ {status[:4]}"  # "sync", "rest"
        if status == ActorStatus.QUEUED and self.remote == Remote.WAITING:
            return "… S3"
        if status in (ActorStatus.QUEUED, ActorStatus.AUDITING):
            return "… audit" if status == ActorStatus.AUDITING else "… queued"
        if status == ActorStatus.ERROR:
            return "✗ error"
        if self.plan is None:
            return "·"
        parts = [
            f"{glyph} {len(found):,}"
            for glyph, found in (
                ("✗", self.plan.issues),
                ("!", self.plan.conflicts),
                ("●", self.plan.actions),
            )
            if found
        ]
        return " ".join(parts) or "✓"

    def cycle_period(self, now: float) -> str:
        """`p`: off → 5 → 15 → 60 min → off; returns it in words."""
        self.periodic_minutes = PERIODS[(PERIODS.index(self.periodic_minutes) + 1) % 4]
        self.next_periodic = now + self.periodic_minutes * 60
        return f"every {self.periodic_minutes} min" if self.periodic_minutes else "off"

    def next_run(self) -> str:
        """The next periodic sync's local time, "14:05"."""
        return time.strftime("%H:%M", time.localtime(self.next_periodic))

    def periodic_due(self, now: float) -> bool:
        """Due: the next one is then counted from now."""
        if not self.periodic_minutes or now < self.next_periodic:
            return False
        self.next_periodic = now + self.periodic_minutes * 60
        return True

    def sync_options(self, *, dry_run: bool, marks: bool, direction: str = "both") -> SyncOptions:
        """What the next sync runs: the marked items (or everything) and this actor's choices."""
        model = self.model if marks and self.model is not None else TreeModel([], {})
        selection = selection_for(self.marks if marks else (), model, direction)
        return SyncOptions(
            dry_run=dry_run,
            delete_orphans=self.delete_orphans,
            force=self.force,
            resolutions=self.choices_for(selection),
            selection=selection,
        )

    def choices_for(self, selection: Selection) -> dict[str, ConflictPolicy]:
        """The conflict choices a sync of `selection` applies: history records only those,
        and the others wait for a sync that takes their path in."""
        conflicts = {
            a.path: a
            for a in (self.plan.actions if self.plan else ())
            if a.category == Category.CONFLICT
        }
        chosen = {}
        for path, choice in self.resolutions.items():
            action = conflicts.get(path)
            if action is not None:
                taken = wants(selection, action)
            else:  # not resolved in the last plan: judge by the path alone
                taken = in_scope(selection, path) and (
                    not selection.categories or Category.CONFLICT in selection.categories
                )
            if taken:
                chosen[path] = choice
        return chosen

    def conflicts(self) -> list[Conflict]:
        """Unresolved conflicts plus those already given a resolution, so choices can change."""
        if self.plan is None:
            return []
        found = list(self.plan.conflicts)
        for action in self.plan.actions:
            if action.category == Category.CONFLICT and action.local and action.remote:
                found.append(Conflict(action.path, action.local, action.remote, action.recorded))
        return sorted(found, key=lambda c: c.path)

    def conflict_choices(self) -> dict[str, ConflictPolicy]:
        """The choices already made (in the plan, then pending), so reopening the conflict view
        shows them (not "skip") and an apply that does not touch them keeps them."""
        chosen = {
            a.path: a.resolved
            for a in (self.plan.actions if self.plan else ())
            if a.category == Category.CONFLICT and a.resolved
        }
        chosen.update(self.resolutions)
        return chosen

    def used_choices(self, applied: Mapping[str, ConflictPolicy], errors: Sequence[str]) -> None:
        """After a sync: its choices are spent (unless their path failed), the rest stay;
        delete-orphans is one-shot too."""
        for path in applied:
            if not any(e.startswith(f"{path}:") for e in errors):
                self.resolutions.pop(path, None)
        self.delete_orphans = self.force = False

    def options_line(self, dry_run: bool) -> str:
        """The header's second line: the choices the next sync will use."""
        orphans = ("DELETE" + (" (force)" if self.force else "")) if self.delete_orphans else "keep"
        periodic = (
            f"every {self.periodic_minutes} min, next {self.next_run()}"
            if self.periodic_minutes
            else "off"
        )
        marked = f" · {len(self.marks)} marked" if self.marks else ""
        dry = "ON" if dry_run else "off"
        return f"dry run {dry} · orphans {orphans} · periodic {periodic}{marked}"

    def tree_note(self, activity: ActorStatus | None = None) -> str:
        """What the tree says when there is no plan to show."""
        if activity in (ActorStatus.SYNCING, ActorStatus.RESTORING):
            return f"{activity}…"
        if activity == ActorStatus.QUEUED and self.remote == Remote.WAITING:
            return "waiting for S3 to list the actors…"
        if activity is not None:
            return "auditing…" if activity == ActorStatus.AUDITING else "waiting to audit…"
        if self.status == ActorStatus.ERROR and self.remote == Remote.UNKNOWN:
            return "S3 unknown: its listing failed (the error above); r audits again"
        if self.status == ActorStatus.ERROR:
            return self.error
        return "not audited yet" if self.status == ActorStatus.NEVER else ""

    def plan_status(self) -> ActorStatus:
        """The state the last plan shows: never audited, problems, conflicts, differences
        or in sync (the worst first, as `trainsync audit`'s exit code)."""
        if self.plan is None:
            return ActorStatus.NEVER
        if self.plan.issues:
            return ActorStatus.PROBLEMS
        if self.plan.conflicts:
            return ActorStatus.CONFLICTS
        return ActorStatus.DIFF if self.plan.actions else ActorStatus.OK

    @property
    def attention(self) -> int:
        """Rank by the last audit (not the task running), so a row does not jump while it
        is audited; lower needs attention sooner."""
        return ATTENTION[self.status]

    def set_planned(self, audit: Audit, plan: Plan, model: TreeModel) -> None:
        self.audit, self.plan, self.model, self.error = audit, plan, model, ""
        self.remote = Remote.KNOWN
        self.status = self.plan_status()
        # A re-audit keeps the marks that still name something (a synced file's is gone).
        self.marks.intersection_update({m for m in self.marks if still_there(m, model)})
