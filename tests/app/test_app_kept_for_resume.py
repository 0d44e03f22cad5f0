"""The app's audit says what an interrupted run kept for resume, as `trainsync audit` does
(issue 25 item 7): a download cut by Ctrl-C on the real CLI, then the app opened on the
root names the kept bytes in the log, where it used to show only the differences."""

from __future__ import annotations

from pathlib import Path

from tests.app.conftest import FakeSchedule, opened, wait_for
from tests.app.test_app_messages import log_text
from tests.conftest import World
from tests.reliability.rig import ACTOR, cli_command, cli_env
from tests.test_cli_kept_for_resume import DATA, interrupt_when, partial_kept
from trainsync_tui.app.app import TrainsyncApp

MiB = 1024 * 1024


async def test_the_apps_audit_names_a_download_kept_for_resume(
    world: World, tmp_path: Path, schedule: FakeSchedule
) -> None:
    world.put_s3(ACTOR, "ckpt/model.bin", DATA, multipart=True)
    command = cli_command(world, "--json", "--bwlimit", "8M")
    ready = lambda: partial_kept(world) >= 4 * MiB  # noqa: E731
    interrupt_when(command, cli_env(world, tmp_path), ready, "4 MiB kept")
    kept = partial_kept(world)

    app = TrainsyncApp(world.settings, schedule=schedule)
    async with opened(app, ACTOR) as pilot:
        await wait_for(pilot, lambda: "kept for resume" in log_text(app))
        text = " ".join(log_text(app).split())  # the pane wraps at its width
    line = f"{ACTOR}: {kept / MiB:.1f} MiB kept for resume (1 download); the next sync goes on"
    assert line in text, text
