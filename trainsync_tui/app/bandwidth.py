"""The app's `--bwlimit`: the `b` key sets or changes the process's limit, mid-sync too
(engine.throttle is shared by every transfer and picks a new rate up at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainsync_tui.app import view
from trainsync_tui.engine.errors import ConfigError

if TYPE_CHECKING:
    from trainsync_tui.app.app import TrainsyncApp


def current(app: TrainsyncApp) -> str:
    limit = app.engine.throttle.limit
    return limit.text if limit is not None else "off"


def ask(app: TrainsyncApp) -> None:
    from trainsync_tui.app.screens.bandwidth import BandwidthScreen

    def apply(text: str | None) -> None:
        if text is None or not text.strip():
            return
        try:
            app.engine.throttle.set_rate(text.strip())
        except ConfigError as exc:  # a typo is a remark, never a crash
            view.tell(app, str(exc))
            return
        app.adapter.line("info", f"bandwidth limit: {current(app)}")
        view.tell(app, f"bandwidth limit {current(app)}")

    app.push_screen(BandwidthScreen(current(app)), apply)
