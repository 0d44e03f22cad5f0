"""Helpers for the modal screen tests: a tiny host app that pushes one screen and keeps
what it was dismissed with, and plain text of a widget's content."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.app import App
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable

from trainsync_tui.engine.plan.build import Conflict
from trainsync_tui.engine.scanned import LocalFile, ManifestEntry, RemoteObject

ACTOR = "0042_european_30_male"
# A fixed clock for everything that renders ages: 2025-11-24 16:00 UTC.
NOW = 1_764_000_000.0
_UNSET = object()


class ScreenHost(App[None]):
    """Pushes the screen `make` builds on mount; `result` is what it was dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.result: Any = _UNSET
        self.dismissed = asyncio.Event()

    def on_mount(self) -> None:
        self.push_screen(self._make(), self._done)

    def _done(self, result: Any) -> None:
        self.result = result
        self.dismissed.set()

    async def wait_dismissed(self) -> Any:
        await asyncio.wait_for(self.dismissed.wait(), timeout=10)
        return self.result

    @property
    def was_dismissed(self) -> bool:
        return self.result is not _UNSET


def text_of(widget: Widget) -> str:
    """What a Static shows, as plain text (its content may be a Rich renderable)."""
    visual = widget.visual  # type: ignore[attr-defined]
    if isinstance(visual, Content):  # a string, parsed as markup or not as the widget says
        return visual.plain
    console = Console(width=100, record=True, no_color=True, file=io.StringIO())
    console.print(widget.content)  # type: ignore[attr-defined]
    return console.export_text()


def table_rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def fixed_conflicts() -> list[Conflict]:
    """Deterministic conflicts for rendering tests: one newer each way, a tie, no MD5."""

    def conflict(
        path: str,
        local: tuple[int, float, str],
        remote: tuple[int, float, str | None],
        recorded: str | None = None,
    ) -> Conflict:
        return Conflict(
            path,
            LocalFile(path, local[0], local[1], local[2]),
            RemoteObject(
                path,
                f"actors/{ACTOR}/training_data/{path}",
                remote[0],
                '"0cc175b9c0f1b6a831c399e269772661-2"',
                remote[1],
                remote[2],
            ),
            ManifestEntry(recorded, 10) if recorded else None,
        )

    return [
        conflict(
            "images/0001.png",
            (123_456, NOW - 7200, "9e107d9d372bb6826bd81d3542a419d6"),
            (120_000, NOW - 3 * 86400, "e4d909c290d0fb1ca068ffaddf22cbd0"),
            "0cc175b9c0f1b6a831c399e269772661",
        ),
        conflict(
            "images/0002.png",
            (13, NOW - 60, "92eb5ffee6ae2fec3ad71c777531578f"),
            (12, NOW - 30, "4a8a08f09d37b73795649038408b5f33"),
        ),
        conflict(
            "labels/deep/folder/with/a/rather/long/name/annotations_0003.json",
            (5_000_000, NOW - 400 * 86400, "8277e0910d750195b448797616e091ad"),
            (6_000_000, NOW - 400 * 86400, None),
        ),
    ]
