"""Delete-orphans confirm and refuse, conflict resolution and cancel, through the main app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.conftest import (
    CONFLICTED,
    FakeSchedule,
    build_actors,
    opened,
    resolve_conflicts,
    settle,
    wait_for,
)
from tests.conftest import World, md5
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.app.widgets.progress import ProgressPanel

ORPHANS = "0005_orphans"
BIG = "0006_big"


def build_orphans(world: World) -> None:
    world.put_in_sync(ORPHANS, {name: name.encode() for name in ("a.txt", "b.txt", "c.txt")})
    world.put_local(ORPHANS, "stray/local.txt", b"only here")
    world.put_s3(ORPHANS, "stray/s3.txt", b"only there")


@pytest.fixture
def orphans_app(world: World, schedule: FakeSchedule) -> TrainsyncApp:
    build_orphans(world)
    return TrainsyncApp(world.settings, schedule=schedule)


@asynccontextmanager
async def orphans_answered(app: TrainsyncApp, answer: str) -> AsyncIterator[Pilot[Any]]:
    """The app opened, delete-orphans turned on (x) and `answer` given to the dialog that asks
    first, which has closed."""
    async with opened(app) as pilot:
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        await pilot.press(answer)
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDeleteScreen))
        yield pilot


def group_titles(app: TrainsyncApp) -> list[str]:
    return [str(n.label).split(" · ")[0][4:] for n in app.query_one(DiscrepancyTree).root.children]


async def test_delete_orphans_asks_first_and_deletes_recoverably_when_confirmed(
    world: World, orphans_app: TrainsyncApp
) -> None:
    app = orphans_app
    async with orphans_answered(app, "y") as pilot:
        await wait_for(pilot, lambda: "Delete local orphans" in group_titles(app))
        assert group_titles(app) == ["Delete local orphans", "Delete S3 orphans"]
        assert "orphans DELETE" in app.query_one(ActorHeader).options
        await pilot.press("s")
        await settle(pilot, app)
    assert world.local_paths(ORPHANS) == ["a.txt", "b.txt", "c.txt"]
    assert world.s3_paths(ORPHANS) == ["a.txt", "b.txt", "c.txt"]
    trash = world.actor_dir(ORPHANS) / ".trainsync" / "trash"
    assert [p.read_bytes() for p in trash.rglob("local.txt")] == [b"only here"]
    assert any(k.endswith("stray/s3.txt") for k in world.s3_keys("trainsync-trash/"))


async def test_refusing_delete_orphans_keeps_them_and_sync_adopts_them(
    world: World, orphans_app: TrainsyncApp
) -> None:
    app = orphans_app
    async with orphans_answered(app, "n") as pilot:
        assert not app.main.states[ORPHANS].delete_orphans
        assert "orphans keep" in app.query_one(ActorHeader).options
        await pilot.press("s")
        await settle(pilot, app)
    everything = ["a.txt", "b.txt", "c.txt", "stray/local.txt", "stray/s3.txt"]
    assert world.local_paths(ORPHANS) == everything
    assert world.s3_paths(ORPHANS) == everything
    assert sorted(world.manifest_md5s(ORPHANS)) == everything


async def test_conflict_view_choice_is_what_the_next_sync_does(
    world: World, schedule: FakeSchedule
) -> None:
    build_actors(world)
    app = TrainsyncApp(world.settings, CONFLICTED, schedule=schedule)
    async with opened(app) as pilot:
        assert app.main.selected is not None and app.main.selected.name == CONFLICTED
        await resolve_conflicts(pilot, app, CONFLICTED, "l", "enter")
        tree = app.query_one(DiscrepancyTree)
        tree.root.children[0].expand()
        await pilot.pause()
        assert "→ local" in str(tree.root.children[0].children[0].label)
        # Reopened, the view starts from that choice: applying it again keeps it.
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConflictScreen))
        assert app.main.states[CONFLICTED].resolutions == {"c.txt": "local"}
        await pilot.press("s")
        await settle(pilot, app)
        assert "in sync" in app.main.states[CONFLICTED].describe()
    assert world.read_s3(CONFLICTED, "c.txt") == b"local side"
    assert world.manifest_md5s(CONFLICTED) == {"c.txt": md5(b"local side")}


async def test_escape_cancels_a_running_sync_cleanly(world: World, schedule: FakeSchedule) -> None:
    blob = bytes(range(256)) * 256  # 64 KiB
    for n in range(300):
        world.put_s3(BIG, f"frames/{n:04}.bin", blob)
    world.put_s3(BIG, "video/big.bin", b"v" * (24 * 1024 * 1024))
    # One transfer at a time: the sync lasts seconds, so escape lands mid-way on a busy box.
    app = TrainsyncApp(replace(world.settings, concurrency=1), schedule=schedule)
    async with opened(app) as pilot:
        panel = app.query_one(ProgressPanel)
        shown: list[str] = []
        panel.watch(panel, "text", lambda text: shown.append(text), init=False)
        app.simulate_key("s")  # not pilot.press: its idle wait let the sync finish first
        log = app.query_one(LogPane)

        def transferring() -> bool:
            """a first file downloaded"""
            return any("downloaded" in str(line.text) for line in log.lines)

        await wait_for(pilot, transferring, timeout=90)
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.query_one(ActorHeader).message.startswith("Cancelled")
        assert any(" files · " in t and "/s" in t for t in shown)  # files, bytes, speed
    local = world.local_paths(BIG)
    assert 0 < len(local) < 301  # stopped part way
    for path in local:  # nothing partial, no temp file in training_data
        assert world.read_local(BIG, path) == world.read_s3(BIG, path)
    manifest = json.loads((world.actor_dir(BIG) / "manifest.json").read_text())
    assert set(manifest["files"]) <= set(local)
    staging = world.actor_dir(BIG) / ".trainsync" / "tmp"
    assert not staging.exists() or not any(staging.iterdir())
    assert world.engine().history(BIG)[0].cancelled is True


async def test_q_during_a_sync_cancels_it_cleanly_and_quits(
    world: World, schedule: FakeSchedule
) -> None:
    import asyncio
    import time

    blob = bytes(range(256)) * 256
    for n in range(200):
        world.put_s3(BIG, f"frames/{n:04}.bin", blob)
    app = TrainsyncApp(replace(world.settings, concurrency=1), schedule=schedule)
    async with opened(app) as pilot:
        # "s" posted as a terminal would: pilot.press waits for the app to go idle (up to
        # ~1 s while a thread posts progress), long enough for this sync to finish first.
        app.simulate_key("s")
        log = app.query_one(LogPane)
        await wait_for(pilot, lambda: any("downloaded" in str(x.text) for x in log.lines), 90)
        await pilot.press("q")
    assert app.return_code == 0
    deadline = time.monotonic() + 30
    while not world.engine().history(BIG):  # the sync thread records its end after cleaning up
        assert time.monotonic() < deadline, "the cancelled sync never finished"
        await asyncio.sleep(0.05)
    assert world.engine().history(BIG)[0].cancelled is True
    assert len(world.local_paths(BIG)) < 200
    for path in world.local_paths(BIG):
        assert world.read_local(BIG, path) == blob
