"""The history view shows what Engine.sync recorded; the detail follows the cursor."""

from __future__ import annotations

from tests.app.conftest_screens import ACTOR, NOW, ScreenHost, table_rows, text_of
from tests.conftest import World
from trainsync_tui.app.screens.history import HistoryScreen
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.run.history import HistoryEntry


def read(*lines: dict[str, object]) -> list[HistoryEntry]:
    """Entries as the history file holds them (these are lines older versions wrote)."""
    entries = [HistoryEntry.from_json(line) for line in lines]
    assert None not in entries
    return [e for e in entries if e is not None]


async def test_real_runs_show_and_the_detail_follows_the_cursor(world: World) -> None:
    engine = world.engine(clock=lambda: NOW)
    layout = engine.actor(ACTOR)
    world.put_local(ACTOR, "img/1.png", b"one")
    world.put_local(ACTOR, "img/2.png", b"two!")
    engine.sync(layout)  # uploads two files
    world.put_s3(ACTOR, "img/3.png", b"three")
    engine.sync(layout, SyncOptions(dry_run=True))  # would download one
    world.put_local(ACTOR, "img/4.png", b"local")
    world.put_s3(ACTOR, "img/4.png", b"remote")  # a conflict, left alone
    world.put_s3(ACTOR, "", b"bad", key=world.key(ACTOR, "bad//name.png"))  # refused path
    engine.sync(layout)
    entries = engine.history(ACTOR)
    engine.close()
    assert len(entries) == 3

    app = ScreenHost(lambda: HistoryScreen(entries, actor=ACTOR, now=lambda: NOW + 180))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        rows = table_rows(screen.query_one("#history-table"))
        # Newest first: when, run, changes, result.
        assert rows == [
            ["3 minutes ago", "sync", "2", "1 error, 1 conflict"],
            ["3 minutes ago", "dry run", "2", "ok"],
            ["3 minutes ago", "sync", "4", "ok"],
        ]
        detail = screen.query_one("#history-detail")
        text = text_of(detail)
        assert "Result: 1 error, 1 conflict" in text
        assert "Errors (1):" in text and "bad//name.png" in text
        assert "Options: sync, everything, conflicts: skip" in text
        await pilot.press("down")
        text = text_of(detail)
        assert "Options: dry run" in text
        assert "Counts: 1 downloaded; 1 added to manifest" in text
        await pilot.press("down")
        text = text_of(detail)
        assert "Counts: 2 uploaded; 2 added to manifest" in text
        assert "7 Bytes up" in text
        await pilot.press("escape")
        assert await app.wait_dismissed() is None


async def test_all_actors_long_error_lists_and_no_history() -> None:
    entry = {
        "when": "2025-11-24T15:00:00Z",
        "actor": ACTOR,
        "who": "cron",
        "options": {
            "dry_run": False,
            "delete_orphans": True,
            "force": True,
            "selective": True,
            "conflict": "newer",
        },
        "counts": {"uploaded": 1},
        "errors": ["img/[bold]x[/b].png: boom", *(f"f{n}: boom" for n in range(1, 20))],
        "error_count": 25,
        "conflicts": 0,
        "duration_s": 61.5,
        "cancelled": True,
        "bytes_uploaded": 2048,
        "bytes_downloaded": 0,
    }
    app = ScreenHost(
        lambda: HistoryScreen(read(entry, {**entry, "actor": "9_[/x]"}), now=lambda: NOW)
    )
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        assert table_rows(screen.query_one("#history-table")) == [
            ["an hour ago", ACTOR, "sync", "1", "cancelled, 25 errors"],
            ["an hour ago", "9_[/x]", "sync", "1", "cancelled, 25 errors"],
        ]
        text = text_of(screen.query_one("#history-detail"))
        assert "by cron" in text and "Took 61.5s" in text
        assert "selected items, delete orphans, forced, conflicts: newer" in text
        assert "f19: boom" in text and "... and 5 more" in text
        assert "img/[bold]x[/b].png: boom" in text  # shown as it is, not read as markup

    empty = ScreenHost(lambda: HistoryScreen([], actor=ACTOR, now=lambda: NOW))
    async with empty.run_test(size=(80, 24)) as pilot:
        assert "No syncs recorded yet" in text_of(empty.screen.query_one("#history-detail"))
        await pilot.press("escape")
        assert await empty.wait_dismissed() is None


async def test_the_detail_says_who_through_what_and_an_aborted_run_says_so() -> None:
    base = {"when": "2025-11-24T15:00:00Z", "actor": ACTOR, "options": {}, "counts": {}}
    entries = [
        {**base, "who": "ana@gpu1", "via": "trainsync cli", "cancelled": True, "aborted": True},
        {**base, "who": "ana@gpu1", "via": "trainsync app", "cancelled": True, "aborted": False},
    ]
    app = ScreenHost(lambda: HistoryScreen(read(*entries), actor=ACTOR, now=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        rows = table_rows(app.screen.query_one("#history-table"))
        assert [row[-1] for row in rows] == ["aborted", "cancelled"]
        detail = app.screen.query_one("#history-detail")
        assert "by ana@gpu1 via trainsync cli" in text_of(detail)
        assert "Result: aborted" in text_of(detail)
        await pilot.press("down")
        assert "by ana@gpu1 via trainsync app" in text_of(detail)


async def test_the_detail_says_how_much_of_a_transfer_was_resumed() -> None:
    base = {"when": "2025-11-24T15:00:00Z", "actor": ACTOR, "options": {}, "counts": {}}
    entries = [
        {**base, "bytes_uploaded": 2 * 2**30, "bytes_resumed": 1536 * 2**20},
        {**base, "bytes_uploaded": 2048},
    ]
    app = ScreenHost(lambda: HistoryScreen(read(*entries), actor=ACTOR, now=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        detail = app.screen.query_one("#history-detail")
        assert "down (1.5 GiB of it kept from an earlier run)" in text_of(detail)
        await pilot.press("down")
        assert "earlier run" not in text_of(detail)
