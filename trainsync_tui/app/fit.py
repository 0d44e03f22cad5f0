"""Cutting a line to the cells it has: whole words and numbers, then "…".

Textual's own `text-overflow: ellipsis` cuts at any cell ("200." for 200.0M, "4 adde"); a
reader takes a cut number for a smaller one. Here a cut falls between words; inside a word
only where 8 cells or more of a long name or path stay, and never inside a number (200.0M,
1,204, 3s: `NUMBER`).
"""

from __future__ import annotations

import re

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

SEPARATORS = " ·-|,:;"  # not left hanging before the "…"
# 200.0M, 1,204, 3s, 10.0M/s, 12/1,204, 05s, 80%: a word a cut would make a smaller number.
LONG_WORD = 8  # cells of a word that may stand before the "…" (a path, a long name)
COUNT = re.compile(r"\d[\d,]*")  # a count that reads wrong without its noun
NUMBER = re.compile(r"\d[\d.,:/]*[A-Za-z%]{0,3}(/s)?")


def cut_at(text: str, width: int, ellipsis: str = "…") -> int:
    """Where to cut `text` so that it and `ellipsis` fit in `width` cells (len(text): whole)."""
    if cell_len(text) <= width:
        return len(text)
    budget = max(0, width - cell_len(ellipsis))
    end = cells = 0
    while end < len(text) and cells + get_character_cell_size(text[end]) <= budget:
        cells += get_character_cell_size(text[end])
        end += 1
    if end < len(text) and text[end] != " " and end > 0 and text[end - 1] != " ":
        start = text.rfind(" ", 0, end) + 1  # the word the cut falls in
        stop = text.find(" ", end)
        word = text[start : stop if stop >= 0 else len(text)].rstrip(SEPARATORS)
        if NUMBER.fullmatch(word) or (start > 0 and end - start < LONG_WORD):
            end = start  # whole words; only a long name or path is cut inside
    while True:
        while end > 0 and text[end - 1] in SEPARATORS:
            end -= 1
        start = text.rfind(" ", 0, end) + 1
        if not (COUNT.fullmatch(text[start:end]) and text[end : end + 2].strip().isalpha()):
            return end
        end = start  # "3 days" goes whole, not as "3…"


def fit(text: str, width: int, ellipsis: str = "…") -> str:
    """`text` if it fits in `width` cells, else its whole words (or the start of a long name)
    and `ellipsis`."""
    end = cut_at(text, width, ellipsis)
    if end == len(text):
        return text
    return text[:end] + ellipsis if width >= cell_len(ellipsis) else ""


def fit_text(text: Text, width: int, ellipsis: str = "…") -> Text:
    """`fit` for styled text: the styles of what is kept stay."""
    end = cut_at(text.plain, width, ellipsis)
    if end == len(text.plain):
        return text
    kept = text.divide([end])[0] if end else Text(style=text.style)
    if width >= cell_len(ellipsis):
        kept.append(ellipsis, style="dim")
    return kept
