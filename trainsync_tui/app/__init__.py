"""The Textual app (`trainsync`, `trainsync tui`, `trainsync demo`)."""

from __future__ import annotations

from collections.abc import Callable

from trainsync_tui.engine.config import Settings


def run_app(
    settings: Settings, actor: str | None = None, prepare: Callable[[], object] | None = None
) -> int:
    """Open the app on one root and bucket; returns the exit status. `prepare` runs in a
    thread once the screen is up, before the actors are listed (the demo's set-up)."""
    from trainsync_tui.app.app import TrainsyncApp

    result = TrainsyncApp(settings, actor, prepare=prepare).run()
    return int(result or 0)
