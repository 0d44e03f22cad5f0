"""One line of text cut to the widget's width by `fit` (whole words, never a number)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from trainsync_tui.app.fit import fit
from trainsync_tui.app.glyphs import UNICODE, Glyphs


class FitLine(Widget):
    """A line that is cut anew at each width (CSS `text-overflow` cuts mid-number)."""

    DEFAULT_CSS = "FitLine { height: 1; }"
    text: reactive[str] = reactive("", layout=False)

    def __init__(self, text: str = "", glyphs: Glyphs = UNICODE, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.glyphs = glyphs
        self.text = text

    def render(self) -> Text:
        line = self.glyphs.text(self.text)
        return Text(fit(line, self.size.width, self.glyphs.text("…")), no_wrap=True)
