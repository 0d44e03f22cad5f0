"""ASCII for terminals that cannot show the app's symbols (LANG=C, a latin-1 terminal).

Python coerces a C locale to UTF-8 for its own streams (PEP 538/540), so its encoding says
nothing about the terminal: the user's locale variables do. Where the terminal is not
UTF-8, the widgets pass their text through `Glyphs.text` (✓ → "=", … → "...", → → "->")
before it is laid out, Textual's own tree lines, scrollbars and borders get ASCII forms, and
the output thread (`to_ascii`) encodes what was missed (Textual's own "…" where CSS cuts a
line) cell for cell: the layout is done by then, so "…" becomes "~", not "..." that would
push the rest of the row over the pane's separator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import get_character_cell_size
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
# After layout, each symbol must keep its width in cells (the rest of the row is placed).
_ASCII_CELLS = str.maketrans(
    {
        **{ch: text for ch, text in ((chr(k), v) for k, v in _ASCII.items()) if len(text) == 1},
        "…": "~",
        "→": ">",
        "—": "-",
        "↑": "^",
        "↓": "v",
        "≥": ">",
        "≤": "<",
        "✅": "ok",
        "🔄": "  ",
    }
)
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
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


def readable_ascii(text: str) -> str:
    """Text to lay out on an ASCII terminal: "…" is "...", "→" is "->"."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def to_ascii(text: str) -> str:
    """Laid-out output for an ASCII terminal: every symbol keeps its width in cells (a wide
    CJK letter is "??", a combining accent nothing)."""
    return _NOT_ASCII.sub(_cells_of_question_marks, text.translate(_ASCII_CELLS))


def _cells_of_question_marks(match: re.Match[str]) -> str:
    return "?" * get_character_cell_size(match.group())


@dataclass(frozen=True)
class Glyphs:
    """The app's symbols for this terminal; `ascii` when it cannot show Unicode."""

    ascii: bool = False

    def text(self, text: str) -> str:
        return readable_ascii(text) if self.ascii else text

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
