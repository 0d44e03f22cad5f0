"""Sync history: one row per recorded run (syncs and restores), the highlighted one's options,
counts and errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from trainsync_tui.app.screens import units
from trainsync_tui.engine.plan.counts import COUNT_KEYS, COUNT_LABELS
from trainsync_tui.engine.run.history import RESTORE, HistoryEntry


def when_of(entry: HistoryEntry) -> float | None:
    try:
        return datetime.fromisoformat(entry.when).timestamp()
    except ValueError:
        return None


def run_kind(entry: HistoryEntry) -> str:
    if entry.kind == RESTORE:
        return "restore"
    return "dry run" if entry.dry_run else "sync"


def by(entry: HistoryEntry) -> str:
    """Who ran it and through what, as the CLI's history says: "ana@gpu1 via trainsync app"."""
    return f"{entry.who} via {entry.via}" if entry.via else entry.who


def options_text(options: Mapping[str, Any]) -> str:
    words = ["dry run" if options.get("dry_run") else "sync"]
    words.append("selected items" if options.get("selective") else "everything")
    if options.get("delete_orphans"):
        words.append("delete orphans" + (", forced" if options.get("force") else ""))
    words.append(f"conflicts: {options.get('conflict', 'skip')}")
    return ", ".join(words)


class HistoryScreen(ModalScreen[None]):
    """Browse Engine.history() entries; escape closes."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
    ]

    def __init__(
        self,
        entries: Sequence[HistoryEntry],
        *,
        actor: str | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.entries = list(entries)
        self.actor = actor
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog", classes="dialog") as dialog:
            scope = self.actor or "all actors"
            # Names and errors go in as Text or without markup: a "[" in them is not markup.
            dialog.border_title = Text(f"Sync history of {scope}: {len(self.entries)} runs")
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="history-detail-scroll"):
                yield Static(id="history-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        table.add_column("When", key="when")
        if self.actor is None:
            table.add_column("Actor", key="actor")
        table.add_column("Run", key="run")
        table.add_column("Changes", key="changes")
        table.add_column("Result", key="result")
        now = self._now()
        for entry in self.entries:
            when = when_of(entry)
            cells: list[str | Text] = [
                units.age(when, now) if when is not None else Text(entry.when)
            ]
            if self.actor is None:
                cells.append(Text(entry.actor))
            cells += [run_kind(entry), str(entry.changes), entry.result()]
            table.add_row(*cells)
        table.focus()
        self._show_detail()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#history-detail", Static)
        table = self.query_one("#history-table", DataTable)
        if not self.entries:
            detail.update("No syncs recorded yet. escape closes.")
            return
        detail.update(self.describe(self.entries[table.cursor_row]))

    def describe(self, entry: HistoryEntry) -> str:
        """The whole record in plain lines: when, who, options, counts, bytes, errors."""
        when = when_of(entry)
        ago = f" ({units.age(when, self._now())})" if when is not None else ""
        lines = [f"{entry.when}{ago}  {entry.actor}  by {by(entry)}"]
        if entry.kind == RESTORE:
            lines += self._restore_lines(entry)
        else:
            lines += self._sync_lines(entry)
        lines.append(f"Result: {entry.result()}")
        total = entry.error_count
        if total:
            lines.append(f"Errors ({total}):")
            lines += [f"  - {error}" for error in entry.errors]
            if total > len(entry.errors):
                more = total - len(entry.errors)
                kept = len(entry.errors)
                lines.append(f"  ... and {more} more (the history keeps the first {kept})")
        return "\n".join(lines)

    def _sync_lines(self, entry: HistoryEntry) -> list[str]:
        lines = [
            f"Options: {options_text(entry.options)}",
            f"Took {entry.duration_s:.1f}s; "
            f"{units.size(entry.bytes_uploaded)} up, "
            f"{units.size(entry.bytes_downloaded)} down",
        ]
        if entry.bytes_resumed:  # bytes an earlier run had sent or fetched: not moved again
            lines[-1] += f" ({units.size(entry.bytes_resumed)} of it kept from an earlier run)"
        if entry.kept:  # a cancelled run's partial transfers, for the next run to resume
            lines.append(f"Left: {entry.kept.text()}")
        done = [f"{entry.counts[k]:,} {COUNT_LABELS[k]}" for k in COUNT_KEYS if entry.counts.get(k)]
        lines.append("Counts: " + ("; ".join(done) if done else "no changes"))
        return lines

    def _restore_lines(self, entry: HistoryEntry) -> list[str]:
        lines = [
            f"Restore of the trash of the sync of {entry.stamp}; took {entry.duration_s:.1f}s",
            f"Restored ({entry.changes:,}):" if entry.changes else "Restored: nothing",
        ]
        lines += [f"  - {path}" for path in entry.restored]
        if entry.skipped_count:
            lines.append(f"Not overwritten ({entry.skipped_count:,}):")
            lines += [f"  - {why}" for why in entry.skipped]
        return lines
