"""A bare app with one `OrderedInput` (or Textual's `Input`, with `plain`) that prints what
was typed when enter is pressed: a pty test writes a burst of keys to it."""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.widgets import Input

from trainsync_tui.app.widgets.ordered_input import OrderedInput


class BurstInputApp(App[str]):
    def __init__(self, plain: bool = False) -> None:
        super().__init__()
        self.plain = plain

    def compose(self) -> ComposeResult:
        yield Input(placeholder="type") if self.plain else OrderedInput(placeholder="type")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.exit(event.value)


if __name__ == "__main__":
    value = BurstInputApp(plain="plain" in sys.argv[1:]).run()
    print(f"\nvalue={value!r}", flush=True)
