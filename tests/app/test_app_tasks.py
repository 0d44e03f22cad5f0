"""Audit, sync and restore share one task lifecycle (app/tasks.py): a task whose worker dies of
a bug is logged, said, and finished like any other, so its actor is free and audited again."""

from __future__ import annotations

from typing import Any

from tests.app.conftest import SYNC_ME, FakeSchedule, opened, settle, wait_for
from tests.app.test_app_restore import ACTOR, trash_two_orphans
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.restore import RestoreScreen
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane


def log_text(app: TrainsyncApp) -> str:
    return "\n".join(str(line.text) for line in app.query_one(LogPane).lines)


def bug(*_: Any) -> None:
    raise RuntimeError("a bug")


async def test_a_sync_whose_worker_dies_frees_the_actor(app: TrainsyncApp) -> None:
    async with opened(app, SYNC_ME, size=(100, 30)) as pilot:
        audited = app.main.states[SYNC_ME].audit
        app.adapter.sync = bug  # type: ignore[method-assign]
        await pilot.press("s")
        await wait_for(pilot, lambda: app.main.states[SYNC_ME].audit is not audited)
        await settle(pilot, app)  # audited again: the actor is not stuck on "syncing"
        assert f"sync {SYNC_ME}: RuntimeError: a bug" in log_text(app)
        assert app.query_one(ActorHeader).message == "✗ not synced: a bug"
        assert app.tasks.of(SYNC_ME) is None


async def test_a_restore_whose_worker_dies_frees_the_actor(world: World) -> None:
    trash_two_orphans(world)
    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    async with opened(app, ACTOR, size=(100, 30)) as pilot:
        audited = app.main.states[ACTOR].audit
        app.adapter.restore = bug  # type: ignore[method-assign]
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.press("enter", "y")
        await wait_for(pilot, lambda: app.main.states[ACTOR].audit is not audited)
        await settle(pilot, app)
        assert f"restore {ACTOR}: RuntimeError: a bug" in log_text(app)
        assert app.query_one(ActorHeader).message == "restore failed: a bug"
        assert app.tasks.of(ACTOR) is None
        assert world.local_paths(ACTOR) == ["keep.bin"]  # nothing was restored
