"""`t`: the app's `trainsync restore` (issue 16): the selected actor's trash by run, enter
asks, y restores (both sides, verified by the engine), the log says what came back, and the
actor is audited again."""

from __future__ import annotations

import threading
from dataclasses import replace

from tests.app.conftest import SYNC_ME, FakeSchedule, opened, select, settle, wait_for
from tests.conftest import S3Server, World
from tests.reliability.faultproxy import Request, stalling
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.restore import RestoreScreen
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.engine.facade import SyncOptions

ACTOR = "0005_trashed"
KEEP, LOCAL, REMOTE = b"kept", b"local orphan", b"s3 orphan"


def trash_two_orphans(world: World) -> None:
    world.put_in_sync(ACTOR, {"keep.bin": KEEP})
    world.put_local(ACTOR, "old/a.bin", LOCAL)
    world.put_s3(ACTOR, "old/b.bin", REMOTE)
    engine = world.engine()
    try:
        report = engine.sync(engine.actor(ACTOR), SyncOptions(delete_orphans=True, force=True))
    finally:
        engine.close()
    assert not report.errors and world.local_paths(ACTOR) == ["keep.bin"]
    assert world.s3_paths(ACTOR) == ["keep.bin"]


async def test_t_lists_the_trash_asks_then_restores_and_audits_again(world: World) -> None:
    trash_two_orphans(world)
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app, ACTOR, size=(100, 30)) as pilot:
        audited = app.main.states[ACTOR].audit
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RestoreScreen))
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        (row,) = screen.rows
        assert (row.local, row.s3, row.size) == (1, 1, len(LOCAL) + len(REMOTE))
        await pilot.press("y")  # nothing picked yet: y does nothing
        assert app.screen is screen and world.local_paths(ACTOR) == ["keep.bin"]
        await pilot.press("enter")
        assert screen.picked == row and row.stamp in screen.prompt()
        await pilot.press("y")
        await wait_for(pilot, lambda: world.local_paths(ACTOR) == ["keep.bin", "old/a.bin"])
        await wait_for(pilot, lambda: app.main.states[ACTOR].audit is not audited)
        await settle(pilot, app)
        assert world.read_local(ACTOR, "old/a.bin") == LOCAL
        assert world.read_s3(ACTOR, "old/b.bin") == REMOTE
        header = app.query_one(ActorHeader)
        assert f"restored {row.stamp}: 1 local file, 1 S3 object" in header.message
        plan = app.main.states[ACTOR].plan
        assert plan is not None and {a.path for a in plan.actions} >= {"old/a.bin", "old/b.bin"}
    log = (world.settings.state_dir / "logs" / "app.log").read_text(encoding="utf-8")
    assert f"{ACTOR}: restored {row.stamp}: 1 local file, 1 S3 object" in log
    # In the history beside the sync that trashed them (issue 25 item 7).
    entry = world.engine().history(ACTOR)[0]
    assert (entry.kind, entry.stamp, entry.via) == ("restore", row.stamp, "trainsync app")
    assert entry.restored == ["old/a.bin (local)", "old/b.bin (S3)"]


async def test_escape_restores_nothing_and_an_empty_trash_says_so(world: World) -> None:
    trash_two_orphans(world)
    world.put_local(SYNC_ME, "a.bin", b"a")
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app, ACTOR, size=(100, 30)) as pilot:
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.press("enter", "escape")  # back from the question, still in the list
        assert isinstance(app.screen, RestoreScreen) and app.screen.picked is None
        await pilot.press("escape")
        assert not isinstance(app.screen, RestoreScreen)
        assert world.local_paths(ACTOR) == ["keep.bin"]
        await select(pilot, app, SYNC_ME)
        await pilot.press("t")
        header = app.query_one(ActorHeader)
        await wait_for(pilot, lambda: "nothing in the trash" in header.message)


async def test_escape_cancels_a_restore_held_by_a_silent_s3(
    world: World, s3_server: S3Server
) -> None:
    trash_two_orphans(world)
    armed = threading.Event()

    def restore_head(request: Request) -> bool:
        """The restore's first look at where old/b.bin goes back: held until the cancel."""
        hit = armed.is_set() and request.method == "HEAD"
        return hit and request.target.split("?")[0].endswith(f"{ACTOR}/training_data/old/b.bin")

    stalled, held = stalling(s3_server.port, restore_head)
    with stalled as proxy:
        app = TrainsyncApp(replace(world.settings, endpoint_url=proxy.url), schedule=FakeSchedule())
        async with opened(app, ACTOR, size=(100, 30)) as pilot:
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, RestoreScreen))
            armed.set()
            await pilot.press("enter", "y")
            await wait_for(pilot, held.is_set)
            assert "restoring" in app.main.states[ACTOR].describe(app.tasks.status(ACTOR))
            await pilot.press("s")  # a sync may not start under a restore
            assert app.tasks.of(ACTOR) is not None and str(app.tasks.of(ACTOR)).startswith(
                "restore"
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.tasks.of(ACTOR) is None, timeout=5)
            header = app.query_one(ActorHeader)
            assert "cancelled" in header.message
            await settle(pilot, app)
        # What came back before the cancel stays; the rest is still in the trash.
        assert world.read_local(ACTOR, "old/a.bin") == LOCAL
        assert world.s3_paths(ACTOR) == ["keep.bin"]
        assert any(k.endswith("/old/b.bin") and "trash" in k for k in world.s3_keys())
    log = (world.settings.state_dir / "logs" / "app.log").read_text(encoding="utf-8")
    assert "restore" in log and "cancelled: what came back stays" in log
