"""`b` sets the process's bandwidth limit (issue 17: a key to change it mid-sync): the
engine's throttle takes the new rate, the header shows it, a bad value is a remark."""

from __future__ import annotations

from datetime import datetime

from tests.app.conftest import SYNC_ME, opened
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.keys import palette_commands
from trainsync_tui.app.screens.bandwidth import BandwidthScreen
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.engine.bwlimit import Rates

MiB = 1 << 20


async def test_b_changes_the_limit_and_the_header_shows_it(app: TrainsyncApp) -> None:
    async with opened(app, SYNC_ME, size=(100, 30)) as pilot:
        header = app.query_one(ActorHeader)
        assert app.engine.throttle.limit is None and "bwlimit" not in header.options

        await pilot.press("b")
        assert isinstance(app.screen, BandwidthScreen)
        await pilot.press(*"10M:100M", "enter")
        limit = app.engine.throttle.limit
        assert limit is not None and limit.rates_at(datetime.now()) == Rates(10 * MiB, 100 * MiB)
        assert "bwlimit 10M:100M" in header.options
        assert "bandwidth limit 10M:100M" in header.message

        await pilot.press("b", *"fast", "enter")  # a typo: a one-line remark, limit kept
        assert app.is_running and not isinstance(app.screen, BandwidthScreen)
        assert "bwlimit 'fast' is not a valid limit" in header.message
        assert "\n" not in header.message
        assert app.engine.throttle.limit is limit

        await pilot.press("b", *"off", "enter")
        assert app.engine.throttle.limit is None and "bwlimit" not in header.options


def test_the_bandwidth_and_restore_keys_are_in_the_palette() -> None:
    titles = [command.title for command in palette_commands(lambda action: None)]
    assert "Bandwidth (b)" in titles and "Restore (t)" in titles
