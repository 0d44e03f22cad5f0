"""The selected actor's header: the green Sync button first, its progress message, options,
and a line of the app's own while S3 says nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Button, Static

from trainsync_tui.app.glyphs import UNICODE, Glyphs

SYNC_TOOLTIP = "Audit manifest, local files, and S3, then sync everything"


class Spinner(Static):
    """A one-cell spinner that only ticks (4 times a second) while it is shown."""

    frame = reactive(0)

    def __init__(self, frames: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.frames = frames

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.25, self._tick, pause=True)

    def _tick(self) -> None:
        self.frame = (self.frame + 1) % len(self.frames)

    def watch_frame(self, frame: int) -> None:
        self.update(self.frames[frame])

    def spin(self, on: bool) -> None:
        self.display = on
        if on:
            self.update(self.frames[self.frame])
            self._timer.resume()
        else:
            self._timer.pause()


class ActorHeader(Vertical):
    """Row 1: the Sync button, spinner, the actor's name and its state in words; then the
    message (it wraps, so a summary or an error is read in full at 80×24; hidden when
    empty); then the options; then, while S3 says nothing, how long it has (hidden else)."""

    busy: reactive[bool] = reactive(False)
    message: reactive[str] = reactive("")
    options: reactive[str] = reactive("")
    actor: reactive[str] = reactive("")
    state: reactive[str] = reactive("")  # in words: "! 1 conflict, 40 differences"
    s3_wait: reactive[str] = reactive("")  # "waiting for S3 (12 s, deadline 60 s)"

    def __init__(self, glyphs: Glyphs = UNICODE, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.glyphs = glyphs

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-row"):
            yield Button(
                self.glyphs.sync_label,
                variant="success",
                id="sync-button",
                tooltip=SYNC_TOOLTIP,
                compact=True,
            )
            yield Spinner(self.glyphs.spinner, id="spinner")
            yield Static(id="actor-name", markup=False)
            yield Static(id="actor-state", markup=False)
        yield Static(id="sync-message", markup=False)
        yield Static(id="options-line", markup=False)
        yield Static(id="s3-wait", markup=False)

    def on_mount(self) -> None:
        self.query_one(Spinner).spin(False)
        self.query_one("#sync-message").display = False
        self.query_one("#s3-wait").display = False

    def watch_actor(self, actor: str) -> None:
        self.query_one("#actor-name", Static).update(actor)

    def watch_state(self, state: str) -> None:
        # Its own widget: a long name is cut, the state beside it is not.
        self.query_one("#actor-state", Static).update(self.glyphs.text(state))

    def watch_busy(self, busy: bool) -> None:
        self.query_one("#sync-button", Button).disabled = busy
        self.query_one(Spinner).spin(busy)

    def watch_message(self, message: str) -> None:
        line = self.query_one("#sync-message", Static)
        line.update(self.glyphs.text(message))
        line.display = bool(message)

    def watch_options(self, options: str) -> None:
        self.query_one("#options-line", Static).update(self.glyphs.text(options))

    def watch_s3_wait(self, text: str) -> None:
        line = self.query_one("#s3-wait", Static)
        line.update(self.glyphs.text(text))
        line.display = bool(text)
