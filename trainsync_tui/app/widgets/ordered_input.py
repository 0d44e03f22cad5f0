"""An `Input` that applies a burst of keys in the order they were typed.

Textual 8.2 inserts a printable key in `Input`'s own key handler, but runs backspace,
delete, home, ctrl+w… as `Input` *bindings*, which the app checks only once the unhandled
key has bubbled from the Input back up to the App, one message queue per DOM level. Keys
that arrive together (SSH, a paste) have by then been forwarded to the Input and inserted:
`004` BSpace×3 `nordic` in one read shows `004nor`. Running the Input's own binding
actions in its key handler keeps the order. docs/upstream/textual-input-burst.md has the
upstream reproduction.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Input


def _by_key(bindings: list[BindingType]) -> dict[str, Binding]:
    """Bindings by key (`home,ctrl+a` makes two); the first for a key wins, as in Textual."""
    keys: dict[str, Binding] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.priority:  # a priority binding already runs first, from the App
            keys.setdefault(binding.key, binding)
    return keys


INPUT_KEYS = _by_key(Input.BINDINGS)  # Input's own, from its public BINDINGS


class OrderedInput(Input):
    """`Input` whose editing keys (backspace, delete, ctrl+w…) take effect in key order."""

    KEYS: ClassVar[dict[str, Binding]] = INPUT_KEYS

    async def on_key(self, event: events.Key) -> None:
        binding = self.KEYS.get(event.key)
        if binding is None:
            return  # printable keys: Input's handler; other keys bubble as before
        if await self.app.run_action(binding.action, self):
            event.stop()  # handled here, in order: the App must not run it a second time
            event.prevent_default()
