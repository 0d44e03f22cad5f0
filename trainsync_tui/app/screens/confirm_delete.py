"""Ask before deleting orphans: what goes where, how much of the actor that is, the guard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from trainsync_tui.app.screens import units
from trainsync_tui.app.screens.table_dialog import TableDialog

WHERE = {"local": "local, to trash", "s3": "S3, to trash"}


class ConfirmDeleteScreen(TableDialog):
    """Dismissed with "confirm", "force" (only offered over the guard) or None (keep them)."""

    ID = "delete"
    COLUMNS = (("Where", "where"), ("Size", "size"), ("Path", "path"))
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Turn on (s deletes)"),
        Binding("f", "force", "Turn on, past the guard"),
        Binding("n", "refuse", "Keep them"),
        Binding("escape", "refuse", "Cancel"),
    ]

    def __init__(
        self,
        actor: str,
        deletions: Sequence[tuple[str, str, int]],
        total_files: int,
        limit: float,
    ) -> None:
        # Each (path, side) pair is one deletion, as the engine's guard counts them.
        self.share = len(deletions) / total_files if total_files else 0.0
        self.over_guard = self.share > limit
        super().__init__(classes="-over-guard" if self.over_guard else None)
        self.actor = actor
        self.deletions = list(deletions)
        self.total_files = total_files
        self.limit = limit

    def heading(self) -> str:
        return f"Delete orphans in {self.actor}?"

    def table_rows(self) -> list[tuple[str, str, Text]]:
        return [
            (WHERE.get(side, side), units.size(size), Text(path))
            for path, side, size in self.deletions
        ]

    def intro(self) -> str:
        n = len(self.deletions)
        if not n:
            return "Nothing would be deleted: every file is in the manifest."
        local = sum(1 for _, side, _ in self.deletions if side == "local")
        total = units.size(sum(size for _, _, size in self.deletions))
        return (
            f"{n} orphan cop{'ies' if n != 1 else 'y'} (not in the manifest) would be deleted: "
            f"{local} local, {n - local} in S3 ({total}). Local files move to the actor's "
            "trash folder (.trainsync/trash/); S3 objects are copied to the S3 trash prefix "
            "first (a versioned bucket keeps the old version). Both can be restored."
        )

    def prompt(self) -> str:
        share = (
            f"That is {len(self.deletions)} of {self.total_files} files "
            f"({units.share(self.share)}); the guard allows {units.share(self.limit)}."
        )
        if self.over_guard:
            return (
                f"OVER THE GUARD. {share} The sync refuses unless forced: f turns "
                "delete-orphans on past the guard (nothing is deleted until you press s), "
                "n or escape keeps them."
            )
        return (
            f"Within the guard. {share} y turns delete-orphans on for this actor: nothing "
            "is deleted until you press s. n or escape keeps them."
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Over the guard only "force" deletes; within it only "confirm" (the footer follows).
        if action == "confirm":
            return not self.over_guard
        if action == "force":
            return self.over_guard
        return True

    def action_confirm(self) -> None:
        self.dismiss("confirm")

    def action_force(self) -> None:
        self.dismiss("force")

    def action_refuse(self) -> None:
        self.dismiss(None)
