"""The trainsync app: what is the whole process's — the terminal and its signals, the engine
and its adapter, the tasks of every actor, quitting. The main screen does the rest."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender

from trainsync_tui.app.adapter import EngineAdapter
from trainsync_tui.app.glyphs import AsciiScrollBarRender, Glyphs, for_terminal
from trainsync_tui.app.keys import QUIT_BINDINGS, palette_commands
from trainsync_tui.app.messages import Hangup
from trainsync_tui.app.screens.actors import Schedule
from trainsync_tui.app.screens.main import MainScreen
from trainsync_tui.app.tasks import Tasks
from trainsync_tui.app.terminal import (
    hangup_aware,
    install_signal_handlers,
    remove_signal_handlers,
)
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.facade import Engine


class TrainsyncApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "trainsync"
    BINDINGS: ClassVar[list[BindingType]] = QUIT_BINDINGS
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (80, "-wide")]

    def __init__(
        self,
        settings: Settings,
        actor: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        schedule: Schedule | None = None,
        audit_concurrency: int = 3,
        glyphs: Glyphs | None = None,
        prepare: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.glyphs = glyphs or for_terminal()  # ASCII on a terminal that is not UTF-8
        self.settings = settings
        self.clock = clock
        self.tasks = Tasks(max(1, min(4, audit_concurrency)))
        self.engine = Engine(settings, clock=clock, who="trainsync app")
        self.log_path = settings.state_dir / "logs" / "app.log"
        # What the engine's workers answer goes to the screen that shows it.
        self.adapter = EngineAdapter(
            self.engine, lambda message: self.main.post_message(message), self.log_path
        )
        self.main = MainScreen(
            settings,
            self.engine,
            self.adapter,
            self.tasks,
            glyphs=self.glyphs,
            clock=clock,
            schedule=schedule,
            actor=actor,
            prepare=prepare,
        )
        self._signals: list[int] = []

    def get_default_screen(self) -> Screen[Any]:
        return self.main

    def get_driver_class(self) -> Any:
        return hangup_aware(super().get_driver_class())

    def on_mount(self) -> None:
        if not self.is_headless:  # tests run in pytest's process: its signals stay its own
            self._signals = install_signal_handlers(self)
        if self.glyphs.ascii:
            self.add_class("-ascii")  # app.tcss: ASCII borders
            # Every scrollbar, dialogs' too; a class attribute, put back at unmount.
            ScrollBar.renderer = AsciiScrollBarRender

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from palette_commands(self.main.run_action)
        yield from super().get_system_commands(screen)

    async def action_quit(self) -> None:
        """Answered at once, whatever runs: "stopping…" is drawn first (leaving the screen
        takes longer on a loaded machine), the tasks are cancelled through their tokens and
        the workers (the demo's "preparing…" too) stop waiting; nothing is awaited here."""
        self.main.stopping()
        self.tasks.cancel(None)
        self.call_after_refresh(self.exit, 0)

    def on_hangup(self, event: Hangup) -> None:
        """SIGTERM/SIGHUP/SIGINT or a lost terminal: cancel through the engine, then exit."""
        running = sorted(str(t) for t in self.tasks.running.values())
        self.tasks.cancel(None)
        what = f"cancelling {', '.join(running)} and " if running else ""
        self.adapter.log.write("warning", f"{event.reason}: {what}quitting")
        self.exit(event.code)

    def on_unmount(self) -> None:
        if ScrollBar.renderer is AsciiScrollBarRender:
            ScrollBar.renderer = ScrollBarRender
        remove_signal_handlers(self._signals)
        running = bool(self.tasks.running)
        self.tasks.cancel(None)
        self.adapter.log.close()
        if not running:  # a cancelled sync still cleaning up keeps using the hash cache
            self.engine.close()
