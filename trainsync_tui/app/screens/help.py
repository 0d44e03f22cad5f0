"""The `?` help: every key of the app in one list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static


class HelpScreen(ModalScreen[None]):
    """(key, description) rows, scrollable when they outgrow the terminal."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, bindings: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = list(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog") as dialog:
            dialog.border_title = "Keys"
            yield Static(
                "Everything works from the keyboard. escape or ? closes this help.",
                id="help-intro",
            )
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        table.add_column("Key", key="key")
        table.add_column("What it does", key="description")
        for key, description in self.rows:
            table.add_row(Text(key), Text(description))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
