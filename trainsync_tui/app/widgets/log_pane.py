"""The live log: bounded in memory (the full log goes to the log file)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

STYLES = {"error": "bold red", "warning": "yellow"}
PREFIX = {"error": "✗ ", "warning": "! "}  # readable without colour too


class LogPane(RichLog):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=2000, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]

    def add_lines(self, lines: Iterable[tuple[str, str]]) -> None:
        for level, text in lines:
            self.write(Text(PREFIX.get(level, "") + text, style=STYLES.get(level, "")))
