"""The dialogs that show a table between an intro and a prompt: delete orphans, restore."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static


class TableDialog(ModalScreen[str | None]):
    """A titled dialog: an intro, a table of rows, a prompt. Its widgets' ids are the dialog's
    ID followed by -dialog, -intro, -table and -prompt (screens.tcss styles each dialog's)."""

    CSS_PATH = "screens.tcss"
    ID: ClassVar[str]
    COLUMNS: ClassVar[Sequence[tuple[str, str]]]  # (heading, key)

    def compose(self) -> ComposeResult:
        with Vertical(id=f"{self.ID}-dialog", classes="dialog") as dialog:
            # Names go in as Text: a "[" in a file or actor name is not markup.
            dialog.border_title = Text(self.heading())
            yield Static(self.intro(), id=f"{self.ID}-intro", markup=False)
            yield DataTable(id=f"{self.ID}-table", cursor_type="row", zebra_stripes=True)
            yield Static(self.prompt(), id=f"{self.ID}-prompt", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(f"#{self.ID}-table", DataTable)
        for heading, key in self.COLUMNS:
            table.add_column(heading, key=key)
        table.add_rows(self.table_rows())
        table.focus()

    def heading(self) -> str:
        raise NotImplementedError

    def intro(self) -> str:
        raise NotImplementedError

    def prompt(self) -> str:
        raise NotImplementedError

    def table_rows(self) -> Iterable[Sequence[object]]:
        raise NotImplementedError
