"""The Sync button pressed with items marked: its tooltip promises everything, the marks say
less, so it asks which one, showing what is marked (issue 25: tab, enter synced everything
behind the user's marks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

Scope = Literal["marked", "everything"]
SHOWN = 6  # marked items listed; the rest are counted


class SyncScopeScreen(ModalScreen[Scope | None]):
    """Dismissed with "marked" (enter, m), "everything" (a) or None (escape, n)."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,m", "dismiss('marked')", "Only the marked"),
        Binding("a", "dismiss('everything')", "Everything"),
        Binding("escape,n", "dismiss", "Neither"),
    ]

    def __init__(self, actor: str, marked: Sequence[str]) -> None:
        super().__init__()
        self.actor = actor
        self.marked = list(marked)

    def compose(self) -> ComposeResult:
        with Vertical(id="scope-dialog", classes="dialog") as dialog:
            dialog.border_title = f"{self.actor}: {len(self.marked)} marked"
            yield Static(self.listing(), id="scope-marked", markup=False)
            yield Static(self.prompt(), id="scope-prompt", markup=False)
        yield Footer()

    def listing(self) -> str:
        lines = [f"  {item}" for item in self.marked[:SHOWN]]
        if len(self.marked) > SHOWN:
            lines.append(f"  and {len(self.marked) - SHOWN} more")
        return "Marked:\n" + "\n".join(lines)

    @staticmethod
    def prompt() -> str:
        return (
            "enter (or m) syncs only the marked items, as s does; "
            "a syncs everything, marked or not; escape syncs nothing."
        )
