"""A sync the delete guard refused: say why, and let the user run it once past the guard (the
CLI's --force) or leave everything as it is."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


class GuardScreen(ModalScreen[bool]):
    """Dismissed with True (y: sync again, forced) or False (n, escape: nothing changes)."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "force", "Sync past the guard"),
        Binding("n", "keep", "Leave it"),
        Binding("escape", "keep", "Leave it"),
    ]

    def __init__(self, actor: str, refusal: str) -> None:
        super().__init__()
        self.actor = actor
        self.refusal = refusal

    def compose(self) -> ComposeResult:
        with Vertical(id="guard-dialog", classes="dialog") as dialog:
            dialog.border_title = f"{self.actor}: the delete guard stopped the sync"
            # The engine's words (names are not markup), then what the keys do here.
            yield Static(self.refusal, id="guard-refusal", markup=False)
            yield Static(self.prompt(), id="guard-prompt", markup=False)
        yield Footer()

    @staticmethod
    def prompt() -> str:
        return (
            "Nothing was changed. If that is what you meant (files you removed on purpose), "
            "y syncs this actor once past the guard, as --force does: deleted files go to the "
            "trash, forgotten manifest entries are gone. n or escape leaves everything as it is."
        )

    def action_force(self) -> None:
        self.dismiss(True)

    def action_keep(self) -> None:
        self.dismiss(False)
