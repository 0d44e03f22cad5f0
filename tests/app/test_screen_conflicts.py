"""The conflict view: choices made with keys come back as resolutions the engine obeys."""

from __future__ import annotations

import os
import time

from tests.app.conftest_screens import (
    ACTOR,
    NOW,
    ScreenHost,
    fixed_conflicts,
    table_rows,
    text_of,
)
from tests.conftest import World, md5
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.plan.build import ConflictPolicy
from trainsync_tui.engine.run.report import SyncReport

NAMES = ("a", "b", "c", "d", "e")


def local_bytes(name: str) -> bytes:
    return f"local version of {name}".encode()


def s3_bytes(name: str) -> bytes:
    return f"the S3 copy of {name}!".encode()


def make_conflicts(world: World) -> None:
    """Five paths present on both sides with different bytes and no manifest entry."""
    for name in NAMES:
        world.put_s3(ACTOR, f"img/{name}.bin", s3_bytes(name))
        path = world.put_local(ACTOR, f"img/{name}.bin", local_bytes(name))
        # c: S3 is newer (keep both keeps S3 under the name); e: local is newer.
        when = {"c": 1_000_000.0, "e": time.time() + 3600}.get(name)
        if when is not None:
            os.utime(path, (when, when))


async def test_choices_come_back_as_resolutions_and_sync_obeys_them(world: World) -> None:
    make_conflicts(world)
    engine = world.engine()
    layout = engine.actor(ACTOR)
    conflicts = engine.plan(engine.audit(layout), SyncOptions()).conflicts
    assert [c.path for c in conflicts] == [f"img/{n}.bin" for n in NAMES]

    app = ScreenHost(lambda: ConflictScreen(ACTOR, conflicts))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        table = screen.query_one("#conflict-table")
        detail = text_of(screen.query_one("#conflict-detail"))
        assert md5(local_bytes("a")) in detail and md5(s3_bytes("a")) in detail
        assert "img/a.bin" in detail and "Choice: skip" in detail

        await pilot.press("n", "a")  # newer wins, then the same for all
        assert [row[0] for row in table_rows(table)] == ["newer wins"] * 5
        await pilot.press("l", "down", "s", "down", "b", "down", "x")
        assert [row[0] for row in table_rows(table)] == [
            "keep local",
            "keep S3",
            "keep both",
            "skip",
            "newer wins",
        ]
        detail = text_of(screen.query_one("#conflict-detail"))
        assert "img/d.bin" in detail and "Choice: skip" in detail
        await pilot.press("enter")
        mapping = await app.wait_dismissed()

    assert mapping == {
        "img/a.bin": ConflictPolicy.LOCAL,
        "img/b.bin": ConflictPolicy.S3,
        "img/c.bin": ConflictPolicy.KEEP_BOTH,
        "img/e.bin": ConflictPolicy.NEWER,
    }
    report: SyncReport = engine.sync(layout, SyncOptions(resolutions=mapping))
    engine.close()
    assert report.errors == [] and not report.cancelled
    assert [c.path for c in report.conflicts] == ["img/d.bin"]

    winners = {"a": local_bytes("a"), "b": s3_bytes("b"), "c": s3_bytes("c"), "e": local_bytes("e")}
    for name, data in winners.items():
        assert world.read_local(ACTOR, f"img/{name}.bin") == data, name
        assert world.read_s3(ACTOR, f"img/{name}.bin") == data, name
    # Skipped: untouched on both sides and still not in the manifest.
    assert world.read_local(ACTOR, "img/d.bin") == local_bytes("d")
    assert world.read_s3(ACTOR, "img/d.bin") == s3_bytes("d")
    # Keep both: the older local copy is kept beside the winner, on both sides.
    copies = [p for p in world.local_paths(ACTOR) if p.startswith("img/c.conflict-local-")]
    assert len(copies) == 1 and copies[0].endswith(".bin")
    assert world.read_local(ACTOR, copies[0]) == local_bytes("c")
    assert world.read_s3(ACTOR, copies[0]) == local_bytes("c")
    expected = {f"img/{n}.bin": md5(data) for n, data in winners.items()}
    expected[copies[0]] = md5(local_bytes("c"))
    assert world.manifest_md5s(ACTOR) == expected


async def test_escape_cancels_and_the_detail_explains_each_choice() -> None:
    app = ScreenHost(lambda: ConflictScreen(ACTOR, fixed_conflicts(), now=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        rows = table_rows(screen.query_one("#conflict-table"))
        # Which side is newer, in words: local, S3, and a tie.
        assert [row[1] for row in rows] == ["local", "S3", "same"]
        detail = screen.query_one("#conflict-detail")
        text = text_of(detail)
        assert "2 hours ago (newer)" in text and "3 days ago" in text
        assert "Manifest: 0cc175b9c0f1b6a831c399e269772661 (matches neither side)" in text
        await pilot.press("s")
        assert "S3 copy is downloaded" in text_of(detail)
        await pilot.press("down", "b")
        # S3 is newer here, so the local file is the one renamed.
        assert "images/0002.conflict-local-<time>.png" in text_of(detail)
        await pilot.press("down", "n")
        text = text_of(detail)
        assert "unknown (ETag" in text  # a multipart object with no MD5 metadata
        assert "same time" in text and "stays a conflict" in text
        await pilot.press("escape")
        assert await app.wait_dismissed() is None


async def test_apply_with_everything_skipped_resolves_nothing() -> None:
    app = ScreenHost(lambda: ConflictScreen(ACTOR, fixed_conflicts(), now=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l", "x", "enter")
        assert await app.wait_dismissed() == {}


async def test_reopening_starts_from_the_earlier_choices() -> None:
    earlier = {"images/0002.png": ConflictPolicy.KEEP_BOTH, "gone.png": ConflictPolicy.S3}
    app = ScreenHost(
        lambda: ConflictScreen(ACTOR, fixed_conflicts(), now=lambda: NOW, chosen=earlier)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        rows = table_rows(app.screen.query_one("#conflict-table"))
        assert [row[0] for row in rows] == ["skip", "keep both", "skip"]
        await pilot.press("l", "enter")
        assert await app.wait_dismissed() == {
            "images/0001.png": ConflictPolicy.LOCAL,
            "images/0002.png": ConflictPolicy.KEEP_BOTH,
        }


def test_conflict_view_snapshot(snap_compare) -> None:
    """Both sides of the first conflict side by side, after choosing keep local for it."""
    app = ScreenHost(lambda: ConflictScreen(ACTOR, fixed_conflicts(), now=lambda: NOW))
    assert snap_compare(app, terminal_size=(80, 24), press=["l"])
