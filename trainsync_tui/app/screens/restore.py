"""The selected actor's trash, newest run first: enter picks a run, y restores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from trainsync_tui.app.screens import units
from trainsync_tui.app.screens.table_dialog import TableDialog


@dataclass(frozen=True, slots=True)
class TrashRow:
    """One sync run's trash, counted in the worker (sizes need a stat per local file)."""

    stamp: str
    local: int
    s3: int
    size: int

    @property
    def files(self) -> str:
        return f"{self.local} local, {self.s3} S3"


class RestoreScreen(TableDialog):
    """Dismissed with the stamp to restore (after y), or None (escape: nothing restored)."""

    ID = "restore"
    COLUMNS = (("Run (UTC)", "stamp"), ("Files", "files"), ("Size", "size"))
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Restore this run", priority=True),
        Binding("y", "confirm", "Yes, restore"),
        Binding("escape", "back", "Back / close"),
    ]

    def __init__(self, actor: str, rows: Sequence[TrashRow], notes: Sequence[str]) -> None:
        super().__init__()
        self.actor = actor
        self.rows = list(rows)
        self.notes = list(notes)
        self.picked: TrashRow | None = None

    def heading(self) -> str:
        return f"Trash of {self.actor}: {len(self.rows)} runs"

    def intro(self) -> str:
        return "Files a sync deleted or overwrote, by run, newest first. " + " ".join(self.notes)

    def table_rows(self) -> list[tuple[str, str, str]]:
        return [(row.stamp, row.files, units.size(row.size)) for row in self.rows]

    def prompt(self) -> str:
        if self.picked is None:
            return "enter: restore the highlighted run (asks first); escape closes."
        row = self.picked
        return (
            f"Restore {row.files} files ({units.size(row.size)}) of run {row.stamp} to "
            f"their paths in {self.actor}? Nothing existing is overwritten. "
            "y restores, escape goes back."
        )

    @on(DataTable.RowHighlighted, "#restore-table")
    def _moved(self) -> None:
        self._pick(None)  # a confirmation is for the run it named only

    def _pick(self, row: TrashRow | None) -> None:
        self.picked = row
        self.query_one("#restore-prompt", Static).update(self.prompt())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.picked is not None  # y means nothing until a run is picked
        return True

    def action_pick(self) -> None:
        table = self.query_one("#restore-table", DataTable)
        if self.rows:
            self._pick(self.rows[table.cursor_row])

    def action_confirm(self) -> None:
        if self.picked is not None:
            self.dismiss(self.picked.stamp)

    def action_back(self) -> None:
        if self.picked is not None:
            self._pick(None)
        else:
            self.dismiss(None)
