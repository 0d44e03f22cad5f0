"""A bare app on the app's terminal driver that records a `Hangup` and stays alive, so a
test can see what the process does between the hang-up and the exit (run: -m, file arg)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from trainsync_tui.app.messages import Hangup
from trainsync_tui.app.terminal import hangup_aware


class HangupProbe(App[int]):
    def __init__(self, record: Path) -> None:
        super().__init__()
        self.record = record

    def get_driver_class(self) -> Any:
        return hangup_aware(super().get_driver_class())

    def compose(self) -> ComposeResult:
        yield Static("probe ready")

    def on_hangup(self, event: Hangup) -> None:
        with self.record.open("a") as out:
            out.write(f"{event.reason}\n")


if __name__ == "__main__":
    HangupProbe(Path(sys.argv[1])).run()
