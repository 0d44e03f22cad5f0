"""The live log: bounded in memory (the full log goes to the log file)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import RichLog

from trainsync_tui.app.glyphs import UNICODE, Glyphs

STYLES = {"error": "bold red", "warning": "yellow"}
PREFIX = {"error": "✗ ", "warning": "! "}  # readable without colour too
BATCH_LINES = 40  # per redraw: a burst of 1,000 small files must not stall the UI thread


class LogPane(RichLog):
    def __init__(self, glyphs: Glyphs = UNICODE, **kwargs: object) -> None:
        self.glyphs = glyphs
        # Lines wrap at the pane's width: an error or a summary is read in full (no sideways
        # scroll). RichLog's min_width (78) wrapped them wider than 60 columns, then cropped.
        super().__init__(max_lines=2000, wrap=True, markup=False, min_width=1, **kwargs)  # type: ignore[arg-type]

    def on_focus(self) -> None:
        # A log has no cursor to reverse: its top rule names it while it has the keys.
        self.border_title = self.glyphs.text("log: ↑ ↓ scroll, tab leaves")

    def on_blur(self) -> None:
        self.border_title = None

    def add_lines(self, lines: Sequence[tuple[str, str]]) -> None:
        """Every error and warning, and the last BATCH_LINES others of a burst."""
        others = [i for i, (level, _) in enumerate(lines) if level not in STYLES]
        skipped = set(others[:-BATCH_LINES]) if len(others) > BATCH_LINES else set()
        if skipped:
            more = self.glyphs.text(f"… {len(skipped):,} more lines in the log file")
            self.write(Text(more, style="dim"))
        for i, (level, text) in enumerate(lines):
            if i not in skipped:
                line = self.glyphs.text(PREFIX.get(level, "") + text)
                self.write(Text(line, style=STYLES.get(level, "")))
