"""Sync history: one row per recorded run, the highlighted one's options, counts and errors."""

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

Entry = Mapping[str, Any]


def when_of(entry: Entry) -> float | None:
    try:
        return datetime.fromisoformat(str(entry.get("when", ""))).timestamp()
    except ValueError:
        return None


def run_kind(entry: Entry) -> str:
    options = entry.get("options") or {}
    return "dry run" if options.get("dry_run") else "sync"


def changes(entry: Entry) -> int:
    return sum(int(v) for v in (entry.get("counts") or {}).values())


def result(entry: Entry) -> str:
    """In words: cancelled, errors, conflicts left, or ok."""
    parts = []
    if entry.get("aborted"):  # given up on (a second Ctrl-C): it may have stopped mid-file
        parts.append("aborted")
    elif entry.get("cancelled"):
        parts.append("cancelled")
    errors = int(entry.get("error_count", len(entry.get("errors") or [])))
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    conflicts = int(entry.get("conflicts") or 0)
    if conflicts:
        parts.append(f"{conflicts} conflict{'s' * (conflicts != 1)}")
    return ", ".join(parts) or "ok"


def by(entry: Entry) -> str:
    """Who ran it and through what, as the CLI's history says: "ana@gpu1 via trainsync app"."""
    who = str(entry.get("who", "?"))
    return f"{who} via {entry['via']}" if entry.get("via") else who


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
        entries: Sequence[Entry],
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
                units.age(when, now) if when is not None else Text(str(entry.get("when", "?")))
            ]
            if self.actor is None:
                cells.append(Text(str(entry.get("actor", "?"))))
            cells += [run_kind(entry), str(changes(entry)), result(entry)]
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

    def describe(self, entry: Entry) -> str:
        """The whole record in plain lines: when, who, options, counts, bytes, errors."""
        when = when_of(entry)
        ago = f" ({units.age(when, self._now())})" if when is not None else ""
        lines = [
            f"{entry.get('when', '?')}{ago}  {entry.get('actor', '?')}  by {by(entry)}",
            f"Options: {options_text(entry.get('options') or {})}",
            f"Took {float(entry.get('duration_s') or 0):.1f}s; "
            f"{units.size(int(entry.get('bytes_uploaded') or 0))} up, "
            f"{units.size(int(entry.get('bytes_downloaded') or 0))} down",
        ]
        resumed = int(entry.get("bytes_resumed") or 0)
        if resumed:  # bytes an earlier run had sent or fetched: not moved again
            lines[-1] += f" ({units.size(resumed)} of it kept from an earlier run)"
        counts = entry.get("counts") or {}
        done = [f"{counts[k]:,} {COUNT_LABELS[k]}" for k in COUNT_KEYS if counts.get(k)]
        lines.append("Counts: " + ("; ".join(done) if done else "no changes"))
        lines.append(f"Result: {result(entry)}")
        errors = list(entry.get("errors") or [])
        total = int(entry.get("error_count", len(errors)))
        if total:
            lines.append(f"Errors ({total}):")
            lines += [f"  - {error}" for error in errors]
            if total > len(errors):
                more = total - len(errors)
                lines.append(f"  ... and {more} more (the history keeps the first {len(errors)})")
        return "\n".join(lines)
