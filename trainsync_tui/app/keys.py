"""The app's keys: the footer shows the SPEC's (80 columns hold no more); `?` shows all.

All non-priority on purpose (but `/`): a modal screen then blocks them, and its own `s`,
`n`, `x` mean other things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

# The keys the footer has no room for (`?` and the palette list them): key | action |
# description | tooltip, one row a key.
_HIDDEN = """
u      | sync('up')     | Upload only   | Sync only what changes S3
d      | sync('down')   | Download only | Sync only what changes local files
n      | dry_run        | Dry run       | Dry run on/off: plan and count, change nothing
x      | delete_orphans | Del orphans   | Delete orphans on/off (asks first)
c      | conflicts      | Conflicts     | Resolve the selected actor's conflicts
h      | history        | History       | Past syncs of the selected actor
p      | periodic       | Periodic      | Selected actor: sync every 5/15/60 min, off
slash  | filter         | Filter        | Filter the actors by name
o      | sort           | Sort          | Sort the actors by name, or by state (worst first)
f      | find           | Find          | Find files in the tree: enter/n next, N back, esc
a      | focus_actors   | Actors        | Jump to the actors list
ctrl+r | refresh_actors | Refresh       | Look again for new actors (folders, S3)
t      | restore        | Restore       | Restore a sync run's trashed files (asks first)
b      | bandwidth      | Bandwidth     | Set the bandwidth limit, mid-sync too (50M, off)
"""


def _rows(table: str) -> list[tuple[str, str, str, str]]:
    rows = [tuple(cell.strip() for cell in line.split("|")) for line in table.strip().splitlines()]
    return [(key, action, description, tooltip) for key, action, description, tooltip in rows]


MAIN_BINDINGS: list[BindingType] = [  # the main screen's actions
    Binding("s", "sync", "Sync", tooltip="Sync the selected actor (marked items, or all)"),
    Binding("r", "audit", "Re-audit", tooltip="Audit the selected actor again"),
    Binding("space", "toggle_mark", "Toggle", tooltip="Mark the item under the cursor"),
    *(
        # `/` has priority: it runs before the keys behind it are handed on, so `/nordic` in
        # one read (SSH, a paste) is typed into the filter, not run as n, o, r… on the tree.
        Binding(key, action, description, tooltip=tooltip, show=False, priority=key == "slash")
        for key, action, description, tooltip in _rows(_HIDDEN)
    ),
    Binding("escape", "cancel", "Cancel", tooltip="Cancel the selected actor's running task"),
    Binding("ctrl+x", "cancel_all", "Cancel all", tooltip="Cancel every actor's tasks", show=False),
    Binding("question_mark", "help", "Help", tooltip="Every key"),
]
QUIT_BINDINGS: list[BindingType] = [  # the app's own: quitting is not one screen's business
    Binding("q", "quit", "Quit", tooltip="Cancel running tasks and quit"),
    # Over SSH Ctrl-C means "stop": cancel and quit like q (Textual only hints ctrl+q).
    Binding("ctrl+c", "quit", "Quit", tooltip="Same as q", show=False, system=True),
    # Over SSH Ctrl-Z means "to the background", `fg` brings it back (Textual's own action:
    # it leaves application mode first and redraws on SIGCONT).
    Binding("ctrl+z", "suspend_process", "Suspend", tooltip="Suspend; fg resumes", show=False),
]
BINDINGS: list[BindingType] = [*MAIN_BINDINGS, *QUIT_BINDINGS]  # every key, as `?` lists them
MOVES: list[BindingType] = [  # the lists' and the tree's own, as vim users expect
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]


def palette_commands(
    run_action: Callable[[str], Any], bindings: Iterable[BindingType] = BINDINGS
) -> Iterable[SystemCommand]:
    """ctrl+p lists the app's own actions, named as in the footer, with their key."""
    for binding in bindings:
        if isinstance(binding, Binding) and binding.action not in (
            "help",
            "quit",
            "suspend_process",
        ):
            title = f"{binding.description} ({binding.key.replace('slash', '/')})"
            yield SystemCommand(title, binding.tooltip, partial(run_action, binding.action))
