"""A sync the delete guard refuses (here: a manifest whose files are gone from disk and S3)
asks in the app whether to run it once past the guard: the CLI's --force, which the app
has no flag for."""

from __future__ import annotations

from tests.app.conftest import FakeSchedule, opened, settle, wait_for
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.guard import GuardScreen
from trainsync_tui.app.widgets.header import ActorHeader

ACTOR = "0007_emptied"
GONE = {f"old/{n}.bin": f"gone {n}".encode() for n in range(5)}


async def test_a_refused_sync_asks_then_y_runs_it_past_the_guard(world: World) -> None:
    world.put_local(ACTOR, "keep.bin", b"keep")
    world.write_manifest(ACTOR, {**GONE, "keep.bin": b"keep"})
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app, ACTOR, size=(100, 30)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        refusal = str(app.screen.query_one("#guard-refusal").render())
        assert "refusing to drop 5 of 6 manifest entries" in refusal
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, GuardScreen))
        await settle(pilot, app)
        assert set(world.manifest_md5s(ACTOR)) == {*GONE, "keep.bin"}  # n: nothing changed
        assert "the guard stays" in app.query_one(ActorHeader).message

        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, GuardScreen))
        await wait_for(pilot, lambda: set(world.manifest_md5s(ACTOR)) == {"keep.bin"})
        await settle(pilot, app)
        assert world.s3_paths(ACTOR) == ["keep.bin"]
        (forced, *_) = world.engine().history(ACTOR)
        assert forced.options["force"] is True
        assert not isinstance(app.screen, GuardScreen)  # the forced run is not asked about
