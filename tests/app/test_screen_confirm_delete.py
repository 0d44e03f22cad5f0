"""Delete-orphans confirmation: confirm, refuse, and force only past the guard."""

from __future__ import annotations

import pytest

from tests.app.conftest_screens import ACTOR, ScreenHost, table_rows, text_of
from tests.conftest import World
from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.build import Category, Plan

LIMIT = 0.5


def orphans_world(world: World, tracked: int) -> None:
    """`tracked` files in sync everywhere, one local-only and one S3-only orphan."""
    world.put_in_sync(ACTOR, {f"keep/{n}.txt": f"tracked {n}".encode() for n in range(tracked)})
    world.put_local(ACTOR, "stray/local-only.bin", b"x" * 2048)
    world.put_s3(ACTOR, "stray/s3-only.bin", b"y" * 1024)


def dry_plan(engine: Engine) -> Plan:
    layout = engine.actor(ACTOR)
    return engine.plan(engine.audit(layout), SyncOptions(delete_orphans=True, dry_run=True))


def deletions_of(plan: Plan) -> list[tuple[str, str, int]]:
    """What the main app passes: (path, side, size) for each deletion of a dry plan."""
    out = []
    for action in plan.actions:
        if action.category == Category.DELETE_LOCAL and action.local:
            out.append((action.path, "local", action.local.size))
        elif action.category == Category.DELETE_S3 and action.remote:
            out.append((action.path, "s3", action.remote.size))
    return out


async def test_confirm_within_the_guard_and_the_sync_moves_orphans_to_trash(
    world: World,
) -> None:
    orphans_world(world, tracked=6)
    engine = world.engine()
    plan = dry_plan(engine)
    deletions = deletions_of(plan)
    assert sorted(deletions) == [
        ("stray/local-only.bin", "local", 2048),
        ("stray/s3-only.bin", "s3", 1024),
    ]
    app = ScreenHost(lambda: ConfirmDeleteScreen(ACTOR, deletions, plan.total_paths, LIMIT))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        rows = table_rows(screen.query_one("#delete-table"))
        assert sorted(rows) == [
            ["S3, to trash", "1.0 KiB", "stray/s3-only.bin"],
            ["local, to trash", "2.0 KiB", "stray/local-only.bin"],
        ]
        summary = text_of(screen.query_one("#delete-intro"))
        assert "1 local, 1 in S3" in summary and "trash" in summary
        prompt = text_of(screen.query_one("#delete-prompt"))
        assert "Within the guard. That is 2 of 8 files (25%); the guard allows 50%." in prompt
        assert "f" not in screen.active_bindings and "y" in screen.active_bindings
        await pilot.press("f")  # not offered within the guard: nothing happens
        await pilot.pause()
        assert not app.was_dismissed
        await pilot.press("y")
        assert await app.wait_dismissed() == "confirm"

    report = engine.sync(engine.actor(ACTOR), SyncOptions(delete_orphans=True))
    engine.close()
    assert report.errors == []
    assert report.counts.deleted_local == 1 and report.counts.deleted_s3 == 1
    assert "stray/local-only.bin" not in world.local_paths(ACTOR)
    assert "stray/s3-only.bin" not in world.s3_paths(ACTOR)
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash"
    assert [p.read_bytes() for p in trash.rglob("local-only.bin")] == [b"x" * 2048]


async def test_over_the_guard_only_force_deletes(world: World) -> None:
    orphans_world(world, tracked=1)
    engine = world.engine()
    plan = dry_plan(engine)
    engine.close()
    deletions = deletions_of(plan)
    app = ScreenHost(lambda: ConfirmDeleteScreen(ACTOR, deletions, plan.total_paths, LIMIT))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        prompt = text_of(screen.query_one("#delete-prompt"))
        assert prompt.startswith("OVER THE GUARD. That is 2 of 3 files (67%)")
        assert "y" not in screen.active_bindings and "f" in screen.active_bindings
        await pilot.press("y")  # confirm is not offered past the guard
        await pilot.pause()
        assert not app.was_dismissed
        await pilot.press("f")
        assert await app.wait_dismissed() == "force"


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_refusing_keeps_the_orphans(key: str) -> None:
    # Brackets in names are shown as they are, never read as markup.
    deletions = [("a[/b].bin", "local", 10), ("[bold]b.bin", "s3", 20), ("c.bin", "local", 30)]
    app = ScreenHost(lambda: ConfirmDeleteScreen("7_[/i]", deletions, 4, LIMIT))
    async with app.run_test(size=(80, 24)) as pilot:
        rows = table_rows(app.screen.query_one("#delete-table"))
        assert [row[2] for row in rows] == ["a[/b].bin", "[bold]b.bin", "c.bin"]
        await pilot.press(key)
        assert await app.wait_dismissed() is None


@pytest.mark.parametrize("over_guard", [False, True])
def test_the_dialog_says_y_and_f_turn_the_mode_on_and_s_deletes(over_guard: bool) -> None:
    deletions = [("a.txt", "local", 1), ("b.txt", "s3", 1)]
    screen = ConfirmDeleteScreen(ACTOR, deletions, 3 if over_guard else 10, LIMIT)
    prompt = screen.prompt()
    assert "nothing is deleted until you press s" in prompt
    assert ("f turns" if over_guard else "y turns delete-orphans on") in prompt
    keys = {b.key: b.description for b in screen.BINDINGS}  # type: ignore[union-attr]
    assert keys["y"] == "Turn on (s deletes)"
