"""Overall progress of the selected actor's sync: bytes, files, current transfer, speed, ETA."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar

from trainsync_tui.app.glyphs import UNICODE, Glyphs
from trainsync_tui.app.models.progress_estimate import Estimate
from trainsync_tui.app.screens.units import size  # the dialogs' units, as the CLI's
from trainsync_tui.app.widgets.fit_line import FitLine
from trainsync_tui.engine.events import Progress


def short_eta(seconds: float) -> str:
    """ "45s", "3m 05s", "2h 07m": an ETA that fits beside the bar at 80 columns."""
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02}s"
    return f"{s // 3600}h {s % 3600 // 60:02}m"


def describe(progress: Progress, estimate: Estimate | None = None) -> str:
    """Files, speed and ETA: the first row, beside the bar, so speed and ETA are never cut.
    The speed and ETA are the estimate's (the last seconds, files left too) when there is one."""
    rate = estimate.rate if estimate is not None else progress.rate
    eta = estimate.eta if estimate is not None else progress.eta
    parts = [f"{progress.files_done:,}/{progress.files_total:,} files", f"{size(rate)}/s"]
    if eta is not None:
        parts.append(f"ETA {short_eta(eta)}")
    return " · ".join(parts)


def describe_bytes(progress: Progress, current: str) -> str:
    """Bytes done of the total, then the file being transferred (the part that may be cut)."""
    text = f"{size(progress.bytes_done)} of {size(progress.bytes_total)}"
    return f"{text} · now: {current}" if current else text


class ProgressPanel(Vertical):
    """Redrawn only when the adapter's throttled ProgressChanged arrives (≤ 4 a second)."""

    text: reactive[str] = reactive("idle")
    current: reactive[str] = reactive("")

    def __init__(self, glyphs: Glyphs = UNICODE, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.glyphs = glyphs

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="bar", show_eta=False, show_percentage=False)
            yield FitLine("idle", self.glyphs, id="progress-text")
        yield FitLine("", self.glyphs, id="progress-current")

    def show(
        self, progress: Progress | None, current: str = "", estimate: Estimate | None = None
    ) -> None:
        bar = self.query_one(ProgressBar)
        if progress is None:
            # An indeterminate bar animates forever: hidden when idle, no redraws over SSH.
            bar.display = False
            self.text, self.current = "idle", ""
            return
        bar.display = not self.glyphs.ascii  # its ━ has no ASCII form; the text has it all
        bar.update(total=max(progress.bytes_total, 1), progress=progress.bytes_done)
        self.text = describe(progress, estimate)
        self.current = describe_bytes(progress, current)

    def watch_text(self, text: str) -> None:
        self.query_one("#progress-text", FitLine).text = text

    def watch_current(self, current: str) -> None:
        self.query_one("#progress-current", FitLine).text = current
