"""The app runs its tasks through the engine's runner (engine/cancel.run_cancellable, issue 16):
a task's worker cancelled by Textual (its actor's group, the app's exit) cancels the
engine call's token, like escape does."""

from __future__ import annotations

import threading
from typing import Any

from tests.app.conftest import SYNC_ME, opened, settle, wait_for
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.tasks import TaskKind


async def test_cancelling_a_tasks_worker_group_cancels_the_engine_call(app: TrainsyncApp) -> None:
    reached, release = threading.Event(), threading.Event()

    def hold(**_: Any) -> None:
        reached.set()
        assert release.wait(30)

    async with opened(app, SYNC_ME, size=(100, 30)) as pilot:
        app.engine.client.meta.events.register("before-call.s3.PutObject", hold)
        await pilot.press("s")
        task = app.tasks.of(SYNC_ME)
        assert task is not None and task.kind == TaskKind.SYNC
        await wait_for(pilot, reached.is_set)  # the sync is inside an S3 call
        app.workers.cancel_group(app.main, task.group)
        try:
            await wait_for(pilot, lambda: task.token.cancelled)
        finally:
            release.set()
        await settle(pilot, app)
