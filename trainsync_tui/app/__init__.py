"""The Textual app (`trainsync`, `trainsync tui`, `trainsync demo`)."""

from __future__ import annotations

from trainsync_tui.engine.config import Settings


def run_app(settings: Settings, actor: str | None = None) -> int:
    """Open the app on one root and bucket; returns the exit status."""
    from trainsync_tui.app.app import TrainsyncApp

    result = TrainsyncApp(settings, actor).run()
    return int(result or 0)
