"""The actors pane: one row per actor (name, state glyph, counts), a `/` filter and a sort
by name or by what needs attention first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.style import Style as VisualStyle
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from trainsync_tui.app.glyphs import UNICODE, Glyphs
from trainsync_tui.app.keys import MOVES
from trainsync_tui.app.models.actor_state import ActorState
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.ordered_input import OrderedInput

BAD = (ActorStatus.ERROR, ActorStatus.PROBLEMS)
REVERSE = VisualStyle(reverse=True)
ROW_WIDTH = 25  # app.tcss's pane less its border, until the list is laid out


def actor_prompt(
    state: ActorState,
    activity: ActorStatus | None = None,
    glyphs: Glyphs = UNICODE,
    width: int = ROW_WIDTH,
) -> Text:
    """One row of `width` cells: the name, cut with "…" to leave the state its room, and the
    state right-aligned (200 actors at two rows each were 29 screens at 80×24, issue 25).
    Plain text, not a grid: the list measures every option it is given, 200 per keystroke."""
    bad = activity is None and state.status in BAD
    counts = Text(glyphs.text(state.counts(activity)), style="bold red" if bad else "dim")
    room = max(width - counts.cell_len - 1, 4)
    shown = state.name
    if cell_len(shown) > room:
        cut = glyphs.text("…")
        shown = set_cell_size(shown, room - len(cut)) + cut
    name = Text(shown, style="bold")
    gap = max(width - name.cell_len - counts.cell_len, 1)
    return Text.assemble(name, " " * gap, counts, no_wrap=True, overflow="ellipsis")


class ActorList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = MOVES

    def get_visual_style(self, *component_classes: str, partial: bool = False) -> VisualStyle:
        """Textual 8 keeps bold, dim, italic, underline and strike of a component's
        text-style but drops `reverse`, so app.tcss's reversed cursor row came out as bold
        only (nearly invisible at NO_COLOR, issue 25): put back what the stylesheet says."""
        style = super().get_visual_style(*component_classes, partial=partial)
        if any(self.get_component_styles(name).text_style.reverse for name in component_classes):
            return style + REVERSE
        return style


def _idle(_name: str) -> ActorStatus | None:
    return None


class ActorsPane(Vertical):
    """Option ids are actor names; the app owns the states and tells the pane what changed;
    `activity` says what runs for an actor (the app's Tasks)."""

    def __init__(
        self,
        activity: Callable[[str], ActorStatus | None] = _idle,
        glyphs: Glyphs = UNICODE,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.activity = activity
        self.glyphs = glyphs
        self.states: dict[str, ActorState] = {}
        self.filter_text = ""
        self.by_state = False  # `o`: by name, or what needs attention first
        self._ranks: dict[str, int] = {}  # each shown actor's rank when the list was sorted

    def compose(self) -> ComposeResult:
        yield OrderedInput(placeholder="filter actors", id="actor-filter")
        yield ActorList(id="actor-list")

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#actor-list", OptionList)

    def set_actors(self, states: Iterable[ActorState]) -> None:
        self.states = {s.name: s for s in states}
        self._refill()

    def _refill(self) -> None:
        options = self.option_list
        current = self.selected
        needle = self.filter_text.casefold()
        shown = [s for s in self.states.values() if needle in s.name.casefold()]
        if self.by_state:  # else the listing's order (by name)
            shown.sort(key=lambda s: (s.attention, s.name))
        self._ranks = {s.name: s.attention for s in shown}
        options.set_options(Option(self._prompt(s), id=s.name) for s in shown)
        if shown:
            names = [s.name for s in shown]
            options.highlighted = names.index(current) if current in names else 0

    def _prompt(self, state: ActorState) -> Text:
        width = self.option_list.scrollable_content_region.width or ROW_WIDTH
        return actor_prompt(state, self.activity(state.name), self.glyphs, width)

    def on_resize(self) -> None:
        self._refill()  # the rows are drawn to the list's width

    def refresh_actor(self, name: str) -> None:
        state = self.states.get(name)
        if state is None:
            return
        if self.by_state and self._ranks.get(name, state.attention) != state.attention:
            self._refill()  # its place in the order changed, not only its row
            return
        try:
            self.option_list.replace_option_prompt(name, self._prompt(state))
        except OptionDoesNotExist:  # filtered out: nothing shown to update
            return

    @property
    def selected(self) -> str | None:
        option = self.option_list.highlighted_option
        return option.id if option is not None else None

    def select(self, name: str) -> None:
        try:
            self.option_list.highlighted = self.option_list.get_option_index(name)
        except OptionDoesNotExist:
            return

    def toggle_sort(self) -> str:
        """`o`: sort by name ↔ by state; returns the order now in words."""
        self.by_state = not self.by_state
        self._refill()
        return "by state (needs attention first)" if self.by_state else "by name"

    # -- filter --------------------------------------------------------------------------

    def open_filter(self) -> None:
        field = self.query_one("#actor-filter", Input)
        field.display = True
        # At once, not as focus() does after the queued messages: the keys typed right
        # behind `/` are already queued and go to whatever has the focus when they are read.
        self.screen.set_focus(field)

    def close_filter(self) -> None:
        field = self.query_one("#actor-filter", Input)
        field.display = bool(self.filter_text)
        self.option_list.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value
        self._refill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close_filter()
