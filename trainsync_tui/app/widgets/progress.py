"""Overall progress of the selected actor's sync: bytes, files, current transfer, speed, ETA."""

from __future__ import annotations

import humanize
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from trainsync_tui.engine.events import Progress


def describe(progress: Progress) -> str:
    size = humanize.naturalsize
    parts = [
        f"{progress.files_done:,}/{progress.files_total:,} files",
        f"{size(progress.bytes_done)}/{size(progress.bytes_total)}",
        f"{size(progress.rate)}/s",
    ]
    eta = progress.eta
    if eta is not None:
        parts.append(f"ETA {humanize.precisedelta(eta, minimum_unit='seconds', format='%0.0f')}")
    return " · ".join(parts)


class ProgressPanel(Vertical):
    """Redrawn only when the adapter's throttled ProgressChanged arrives (≤ 4 a second)."""

    text: reactive[str] = reactive("idle")
    current: reactive[str] = reactive("")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="bar", show_eta=False)
            yield Static("idle", id="progress-text", markup=False)
        yield Static("", id="progress-current", markup=False)

    def show(self, progress: Progress | None, current: str = "") -> None:
        bar = self.query_one(ProgressBar)
        if progress is None:
            # An indeterminate bar animates forever: hidden when idle, no redraws over SSH.
            bar.display = False
            self.text, self.current = "idle", ""
            return
        bar.display = True
        bar.update(total=max(progress.bytes_total, 1), progress=progress.bytes_done)
        self.text = describe(progress)
        self.current = f"now: {current}" if current else ""

    def watch_text(self, text: str) -> None:
        self.query_one("#progress-text", Static).update(text)

    def watch_current(self, current: str) -> None:
        self.query_one("#progress-current", Static).update(current)
