"""Ask for a new bandwidth limit (rclone's --bwlimit form); the app applies it at once."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from trainsync_tui.app.widgets.ordered_input import OrderedInput
from trainsync_tui.engine.bwlimit import FORMS


class BandwidthScreen(ModalScreen[str | None]):
    """Dismissed with the text typed (enter), or None (escape: the limit stays)."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Keep the limit")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="bandwidth-dialog", classes="dialog") as dialog:
            dialog.border_title = "Bandwidth limit"
            yield Static(
                f"Now: {self.current}. Every transfer of every sync shares it, from now on. "
                f"Type {FORMS}; off removes it. enter applies, escape keeps it.",
                id="bandwidth-intro",
                markup=False,
            )
            yield OrderedInput(placeholder="e.g. 50M, 10M:100M, off", id="bandwidth-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#bandwidth-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)
