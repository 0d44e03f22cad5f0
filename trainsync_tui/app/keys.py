"""The app's keys: the footer shows the SPEC's (80 columns hold no more); `?` shows all.

All non-priority on purpose: a modal screen then blocks them, and its own `s`, `n`, `x`
mean other things.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding("s", "sync", "Sync", tooltip="Sync the selected actor (marked items, or all)"),
    Binding("r", "audit", "Re-audit", tooltip="Audit the selected actor again"),
    Binding("space", "toggle_mark", "Toggle", tooltip="Mark the item under the cursor"),
    *(
        Binding(key, action, description, tooltip=tooltip, show=False)
        for key, action, description, tooltip in (
            ("u", "sync('up')", "Upload only", "Sync only what changes S3"),
            ("d", "sync('down')", "Download only", "Sync only what changes local files"),
            ("n", "dry_run", "Dry run", "Dry run on/off: plan and count, change nothing"),
            ("x", "delete_orphans", "Del orphans", "Delete orphans on/off (asks first)"),
            ("c", "conflicts", "Conflicts", "Resolve the selected actor's conflicts"),
            ("h", "history", "History", "Past syncs of the selected actor"),
            ("p", "periodic", "Periodic", "Selected actor: sync every 5/15/60 min, off"),
            ("slash", "filter", "Filter", "Filter the actors by name"),
        )
    ),
    Binding("escape", "cancel", "Cancel", tooltip="Cancel the selected actor's running task"),
    Binding("ctrl+x", "cancel_all", "Cancel all", tooltip="Cancel every actor's tasks",
            show=False),
    Binding("question_mark", "help", "Help", tooltip="Every key"),
    Binding("q", "quit", "Quit", tooltip="Cancel running tasks and quit"),
    # Over SSH Ctrl-C means "stop": cancel and quit like q (Textual only hints ctrl+q).
    Binding("ctrl+c", "quit", "Quit", tooltip="Same as q", show=False, system=True),
]
