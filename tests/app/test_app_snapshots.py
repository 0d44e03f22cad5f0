"""Snapshots of the main screen at 80×24 and 60×20 and of the help, on a UTF-8 terminal
and on one that is not (ASCII): fixed clock, data, mtimes and root."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.conftest import SYNC_ME, FakeSchedule, build_actors, select, settle
from tests.conftest import World, s3_client
from tests.s3server import S3Server
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.glyphs import ASCII, UNICODE
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree

NOW = 1_764_000_000.0  # 2025-11-24 16:00 UTC; local files are three days older
# The log pane names the log file, so the root must have the same name on every run.
ROOT = Path(tempfile.gettempdir()) / "trainsync-app-snapshot"


CHARSETS = {"utf8": UNICODE, "ascii": ASCII}


@pytest.fixture(params=list(CHARSETS))
def snapshot_app(request: pytest.FixtureRequest, bucket: str, s3_server: S3Server) -> Any:
    shutil.rmtree(ROOT, ignore_errors=True)
    (ROOT / "data" / "actors").mkdir(parents=True)
    world = World(ROOT, bucket, s3_server.url, s3_client(s3_server.url))
    build_actors(world)
    for path in (ROOT / "data" / "actors").rglob("*"):
        os.utime(path, (NOW - 3 * 86400, NOW - 3 * 86400))
    glyphs = CHARSETS[request.param]
    yield TrainsyncApp(world.settings, schedule=FakeSchedule(), clock=lambda: NOW, glyphs=glyphs)
    shutil.rmtree(ROOT, ignore_errors=True)


async def _main_screen(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TrainsyncApp)
    await settle(pilot, app)
    await select(pilot, app, SYNC_ME)
    tree = app.query_one(DiscrepancyTree)
    tree.focus()
    await pilot.press("enter", "down", "enter")  # the upload group and its folder
    await pilot.press("up")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_main_screen(snap_compare: Any, snapshot_app: TrainsyncApp, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app, terminal_size=size, run_before=_main_screen)


def test_help_lists_every_key_at_80x24(snap_compare: Any, snapshot_app: TrainsyncApp) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await _main_screen(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=open_help)
