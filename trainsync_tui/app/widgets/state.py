"""What the app knows about one actor: its last audit, plan, marks and per-actor options."""

from __future__ import annotations

from dataclasses import dataclass, field

from trainsync_tui.app.widgets.tree_model import Mark, TreeModel, selection_for, still_there
from trainsync_tui.engine.api import SyncOptions
from trainsync_tui.engine.audit import Audit
from trainsync_tui.engine.plan import ConflictPolicy, Plan
from trainsync_tui.engine.report import plural

PERIODS = (0, 5, 15, 60)  # minutes; `p` cycles through them for the selected actor


@dataclass
class ActorState:
    name: str
    status: str = "never"  # never | queued | auditing | ok | diff | conflicts | error | syncing
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

    def describe(self) -> str:
        """The state word(s) the actors pane shows; symbols keep it readable without colour."""
        if self.status == "syncing":
            return "⟳ syncing"
        if self.status in ("queued", "auditing"):
            return "… auditing" if self.status == "auditing" else "… waiting to audit"
        if self.status == "error":
            return "✗ error"
        if self.status == "never" or self.plan is None:
            return "· never audited"
        conflicts = len(self.plan.conflicts)
        actions = len(self.plan.actions)
        if conflicts:
            more = f", {plural(actions, 'difference')}" if actions else ""
            return f"! {plural(conflicts, 'conflict')}{more}"
        if actions:
            return f"● {plural(actions, 'difference')}"
        return "✓ in sync"

    def cycle_period(self, now: float) -> str:
        """`p`: off → 5 → 15 → 60 min → off; returns it in words."""
        self.periodic_minutes = PERIODS[(PERIODS.index(self.periodic_minutes) + 1) % 4]
        self.next_periodic = now + self.periodic_minutes * 60
        return f"every {self.periodic_minutes} min" if self.periodic_minutes else "off"

    def periodic_due(self, now: float) -> bool:
        """Due (and not syncing): the next one is then counted from now."""
        if not self.periodic_minutes or now < self.next_periodic or self.status == "syncing":
            return False
        self.next_periodic = now + self.periodic_minutes * 60
        return True

    def sync_options(self, *, dry_run: bool, marks: bool, direction: str = "both") -> SyncOptions:
        """What the next sync runs: the marked items (or everything) and this actor's choices."""
        model = self.model if marks and self.model is not None else TreeModel([], {})
        return SyncOptions(
            dry_run=dry_run,
            delete_orphans=self.delete_orphans,
            force=self.force,
            resolutions=dict(self.resolutions),
            selection=selection_for(self.marks if marks else (), model, direction),
        )

    def options_line(self, dry_run: bool) -> str:
        """The header's second line: the choices the next sync will use."""
        orphans = ("DELETE" + (" (force)" if self.force else "")) if self.delete_orphans else "keep"
        periodic = f"every {self.periodic_minutes} min" if self.periodic_minutes else "off"
        marked = f" · {len(self.marks)} marked" if self.marks else ""
        dry = "ON" if dry_run else "off"
        return f"dry run {dry} · orphans {orphans} · periodic {periodic}{marked}"

    def tree_note(self) -> str:
        """What the tree says when there is no plan to show."""
        if self.status == "syncing" and self.model is None:
            return "syncing…"
        notes = {"never": "not audited yet", "queued": "waiting to audit…", "auditing": "auditing…"}
        return self.error if self.status == "error" else notes.get(self.status, "")

    def plan_status(self) -> str:
        """The state the last plan shows: never audited, conflicts, differences or in sync."""
        if self.plan is None:
            return "never"
        if self.plan.conflicts:
            return "conflicts"
        return "diff" if self.plan.actions else "ok"

    def set_planned(self, audit: Audit, plan: Plan, model: TreeModel) -> None:
        self.audit, self.plan, self.model, self.error = audit, plan, model, ""
        self.status = self.plan_status()
        # A re-audit keeps the marks that still name something (a synced file's is gone).
        self.marks.intersection_update({m for m in self.marks if still_there(m, model)})
