"""The selected actor's trash, newest run first: enter picks a run, y restores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from trainsync_tui.app.screens import units


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


class RestoreScreen(ModalScreen[str | None]):
    """Dismissed with the stamp to restore (after y), or None (escape: nothing restored)."""

    CSS_PATH = "screens.tcss"
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

    def compose(self) -> ComposeResult:
        with Vertical(id="restore-dialog", classes="dialog") as dialog:
            dialog.border_title = Text(f"Trash of {self.actor}: {len(self.rows)} runs")
            intro = "Files a sync deleted or overwrote, by run, newest first. " + " ".join(
                self.notes
            )
            yield Static(intro, id="restore-intro", markup=False)
            yield DataTable(id="restore-table", cursor_type="row", zebra_stripes=True)
            yield Static(self.prompt(), id="restore-prompt", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#restore-table", DataTable)
        table.add_column("Run (UTC)", key="stamp")
        table.add_column("Files", key="files")
        table.add_column("Size", key="size")
        for row in self.rows:
            table.add_row(row.stamp, row.files, units.size(row.size))
        table.focus()

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
