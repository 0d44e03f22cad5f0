"""ASCII for terminals that cannot show the app's symbols (LANG=C, a latin-1 terminal).

Python coerces a C locale to UTF-8 for its own streams (PEP 538/540), so its encoding says
nothing about the terminal: the user's locale variables do. Where the terminal is not
UTF-8, the widgets pass their text through `Glyphs.text` (✓ → "=", … → "...", → → "->"),
Textual's own tree lines, scrollbars and borders get ASCII forms, and the output thread
encodes to ASCII so nothing missed reaches the terminal as bytes it would garble.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual.scrollbar import ScrollBarRender

# Python's locale coercion sets LC_CTYPE to one of these; it is not the user's choice.
COERCED = ("C.UTF-8", "C.utf8", "UTF-8")

_ASCII = str.maketrans(
    {
        "✓": "=",
        "✗": "x",
        "●": "*",
        "⟳": "~",
        "…": "...",
        "·": "-",
        "→": "->",
        "—": "--",
        "–": "-",
        "↑": "up",
        "↓": "down",
        "✅": "ok",
        "🔄": "",
        "×": "x",
        "≥": ">=",
        "≤": "<=",
        "━": "=",
        "╸": "=",
        "╺": "=",
        "│": "|",
        "─": "-",
        "├": "+",
        "└": "`",
        "▶": ">",
        "▼": "v",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
    }
)
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_SPINNER = "|/-\\"


def terminal_is_utf8(env: Mapping[str, str] | None = None) -> bool:
    """What the user's locale says the terminal takes: LC_ALL, then LC_CTYPE, then LANG."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "")
        if not value or (name == "LC_CTYPE" and value in COERCED):
            continue
        return "utf-8" in value.lower() or "utf8" in value.lower()
    return False  # nothing set: the C locale, ASCII


def to_ascii(text: str) -> str:
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


@dataclass(frozen=True)
class Glyphs:
    """The app's symbols for this terminal; `ascii` when it cannot show Unicode."""

    ascii: bool = False

    def text(self, text: str) -> str:
        return to_ascii(text) if self.ascii else text

    @property
    def spinner(self) -> str:
        return ASCII_SPINNER if self.ascii else SPINNER

    @property
    def sync_label(self) -> str:
        return "Sync" if self.ascii else "🔄 Sync"


class AsciiScrollBarRender(ScrollBarRender):
    """The thumb drawn in whole cells (Textual's eighth-blocks are not ASCII)."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


UNICODE = Glyphs(False)
ASCII = Glyphs(True)


def for_terminal(env: Mapping[str, str] | None = None) -> Glyphs:
    return UNICODE if terminal_is_utf8(env) else ASCII
