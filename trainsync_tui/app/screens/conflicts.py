"""Conflict resolution: both sides of each conflicting file side by side, a choice per file."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from trainsync_tui.app.screens import units
from trainsync_tui.engine.plan.build import Conflict, ConflictPolicy, conflict_copy_name

# Words, not colours, carry the choice: the app must read the same with NO_COLOR.
CHOICE_LABELS = {
    ConflictPolicy.SKIP: "skip",
    ConflictPolicy.LOCAL: "keep local",
    ConflictPolicy.S3: "keep S3",
    ConflictPolicy.KEEP_BOTH: "keep both",
    ConflictPolicy.NEWER: "newer wins",
}


def local_is_newer(conflict: Conflict) -> bool | None:
    """True/False when one side was modified later; None on a tie (newer-wins then skips)."""
    if conflict.local.mtime == conflict.remote.last_modified:
        return None
    return conflict.local.mtime > conflict.remote.last_modified


def outcome(conflict: Conflict, policy: ConflictPolicy) -> str:
    """What sync will do with this file under `policy`, as the engine's plan does it."""
    if policy == ConflictPolicy.SKIP:
        return "Left as it is on both sides and reported as a conflict."
    if policy == ConflictPolicy.LOCAL:
        return "The local file is uploaded; the S3 copy is moved to the S3 trash first."
    if policy == ConflictPolicy.S3:
        return "The S3 copy is downloaded; the local file goes to the actor's trash folder."
    newer = local_is_newer(conflict)
    if policy == ConflictPolicy.NEWER:
        if newer is None:
            return "Both sides have the same time: nothing is newer, it stays a conflict."
        side = ConflictPolicy.LOCAL if newer else ConflictPolicy.S3
        return f"{'Local' if newer else 'S3'} is newer. " + outcome(conflict, side)
    # keep both: the newer side (local on a tie) keeps the name, the other is kept beside it.
    loser = "s3" if newer is not False else "local"
    copy = conflict_copy_name(conflict.path, loser, "<time>")
    winner = "local" if loser == "s3" else "S3"
    return f"Both kept: the {winner} file keeps the name, the other becomes {copy}."


class ConflictScreen(ModalScreen[dict[str, ConflictPolicy] | None]):
    """Pick keep local / keep S3 / keep both / newer / skip per file, or one choice for all."""

    CSS_PATH = "screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "choose('local')", "Local", tooltip="Keep the local file"),
        Binding("s", "choose('s3')", "S3", tooltip="Keep the S3 copy"),
        Binding("b", "choose('keep-both')", "Both", tooltip="Keep both, the older renamed"),
        Binding("n", "choose('newer')", "Newer", tooltip="The newer side wins"),
        Binding("x", "choose('skip')", "Skip", tooltip="Leave this file alone"),
        Binding("a", "same_for_all", "All", tooltip="Give every file this file's choice"),
        Binding("enter", "apply", "Apply", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        actor: str,
        conflicts: Sequence[Conflict],
        *,
        now: Callable[[], float] = time.time,
        chosen: Mapping[str, ConflictPolicy] | None = None,
    ) -> None:
        """`chosen`: earlier choices to start from, so reopening the view keeps them."""
        super().__init__()
        self.actor = actor
        self.conflicts = {c.path: c for c in conflicts}
        earlier = chosen or {}
        self.choices = {c.path: earlier.get(c.path, ConflictPolicy.SKIP) for c in conflicts}
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict-dialog", classes="dialog") as dialog:
            n = len(self.conflicts)
            # Names go in as Text: a "[" in a file or actor name is not markup.
            dialog.border_title = Text(f"Conflicts in {self.actor}: {n} file{'s' * (n != 1)}")
            yield Static(
                "Local and S3 differ and the manifest names no winner. Choose per file "
                "(l s b n x), a: the same for all, enter: apply, escape: cancel.",
                id="conflict-intro",
            )
            yield DataTable(id="conflict-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="conflict-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#conflict-table", DataTable)
        table.add_column("Choice", key="choice", width=10)
        table.add_column("Newer", key="newer")
        table.add_column("Local", key="local")
        table.add_column("S3", key="s3")
        table.add_column("Path", key="path")
        for path, c in self.conflicts.items():
            newer = local_is_newer(c)
            table.add_row(
                CHOICE_LABELS[self.choices[path]],
                "same" if newer is None else ("local" if newer else "S3"),
                units.size(c.local.size),
                units.size(c.remote.size),
                Text(path),
                key=path,
            )
        table.focus()
        self._show_detail()

    # -- actions -------------------------------------------------------------------------

    def action_choose(self, policy: str) -> None:
        path = self._current()
        if path is None:
            return
        # The cursor stays, so the detail pane shows what this choice will do.
        self._set(path, ConflictPolicy(policy))
        self._show_detail()

    def action_same_for_all(self) -> None:
        path = self._current()
        if path is None:
            return
        for other in self.choices:
            self._set(other, self.choices[path])
        self._show_detail()

    def action_apply(self) -> None:
        self.dismiss(self.resolutions())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def resolutions(self) -> dict[str, ConflictPolicy]:
        """The files the user resolved; files left on skip are not in it."""
        return {p: c for p, c in self.choices.items() if c != ConflictPolicy.SKIP}

    # -- helpers -------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#conflict-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _current(self) -> str | None:
        table = self.query_one("#conflict-table", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _set(self, path: str, policy: ConflictPolicy) -> None:
        self.choices[path] = policy
        table = self.query_one("#conflict-table", DataTable)
        table.update_cell(path, "choice", CHOICE_LABELS[policy])

    def _show_detail(self) -> None:
        detail = self.query_one("#conflict-detail", Static)
        path = self._current()
        if path is None:
            detail.update("No conflicts: nothing to resolve. enter or escape closes.")
            return
        detail.update(self.describe(self.conflicts[path]))

    def describe(self, conflict: Conflict) -> Group:
        """Both sides side by side: size, age, MD5; then the manifest and the outcome."""
        now = self._now()
        newer = local_is_newer(conflict)
        local, remote = conflict.local, conflict.remote
        grid = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, show_edge=False)
        grid.add_column("", width=8, no_wrap=True)
        grid.add_column("Local", ratio=1, overflow="fold")
        grid.add_column("S3", ratio=1, overflow="fold")
        grid.add_row("Size", units.size(local.size), units.size(remote.size))
        grid.add_row(
            "Age",
            units.age(local.mtime, now) + (" (newer)" if newer is True else ""),
            units.age(remote.last_modified, now) + (" (newer)" if newer is False else ""),
        )
        grid.add_row("MD5", local.md5, remote.md5 or f"unknown (ETag {remote.etag})")
        recorded = conflict.recorded
        manifest = (
            f"Manifest: {recorded.md5} (matches neither side)"
            if recorded
            else "Manifest: no entry (the file appeared on both sides)"
        )
        choice = self.choices[conflict.path]
        return Group(
            Text(conflict.path, style="bold", overflow="fold"),
            grid,
            Text(manifest, overflow="fold"),
            Text(f"Choice: {CHOICE_LABELS[choice]}. {outcome(conflict, choice)}"),
        )
