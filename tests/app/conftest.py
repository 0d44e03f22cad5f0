"""The main app against the real engine and the loopback S3: actors in known states, a
driver that waits on conditions (never a fixed sleep), and a schedule the tests fire."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp

SYNC_ME = "0001_sync_me"
IN_SYNC = "0002_in_sync"
CONFLICTED = "0003_conflicted"
BROKEN = "0004_broken"


def build_actors(world: World) -> None:
    """One actor of each state; SYNC_ME has a file in every plan group but conflicts."""
    a = SYNC_ME
    world.put_local(a, "images/up.png", b"up" * 100)
    world.put_s3(a, "images/down.png", b"down" * 100)
    world.put_local(a, "text/add.txt", b"same")
    world.put_s3(a, "text/add.txt", b"same")
    world.put_local(a, "text/update.txt", b"new")
    world.put_s3(a, "text/update.txt", b"new")
    world.write_manifest(a, {"text/update.txt": b"old", "gone.txt": b"gone"})

    world.put_in_sync(IN_SYNC, {"a.txt": b"a"})

    world.put_local(CONFLICTED, "c.txt", b"local side")
    world.put_s3(CONFLICTED, "c.txt", b"s3 side")
    world.write_manifest(CONFLICTED, {"c.txt": b"recorded"})

    world.put_local(BROKEN, "b.txt", b"b")
    path = world.actor_dir(BROKEN) / "manifest.json"
    path.write_text("{not json")


@dataclass
class FakeSchedule:
    """Stands in for set_timer: records (delay, callback) so a test fires them at will."""

    calls: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def __call__(self, delay: float, callback: Callable[[], None]) -> None:
        self.calls.append((delay, callback))

    def fire(self) -> None:
        calls, self.calls = self.calls, []
        for _, callback in calls:
            callback()


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 30) -> None:
    """Let the app run until `condition` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def idle(app: TrainsyncApp) -> Callable[[], bool]:
    def check() -> bool:
        """every actor listed, no task running or waiting"""
        return bool(app.main.states) and app.tasks.idle

    return check


async def settle(pilot: Pilot[Any], app: TrainsyncApp) -> None:
    await wait_for(pilot, idle(app))
    await app.workers.wait_for_complete()
    await pilot.pause()


async def select(pilot: Pilot[Any], app: TrainsyncApp, actor: str) -> None:
    from trainsync_tui.app.widgets.actors import ActorsPane

    app.query_one(ActorsPane).select(actor)
    await pilot.pause()
    assert app.main.selected is not None and app.main.selected.name == actor


async def resolve_conflicts(pilot: Pilot[Any], app: TrainsyncApp, actor: str, *keys: str) -> None:
    """Open the conflict view (c), press `keys` there, and wait until the plan has none left."""
    from trainsync_tui.app.screens.conflicts import ConflictScreen

    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, ConflictScreen))
    await pilot.press(*keys)
    await wait_for(
        pilot,
        lambda: (
            app.main.states[actor].plan is not None and not app.main.states[actor].plan.conflicts
        ),
    )


@asynccontextmanager
async def opened(
    app: TrainsyncApp, actor: str | None = None, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[Pilot[Any]]:
    """The app running at `size` once every actor is listed and it is idle, `actor` selected."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        if actor is not None:
            await select(pilot, app, actor)
        yield pilot


@pytest.fixture
def schedule() -> FakeSchedule:
    return FakeSchedule()


@pytest.fixture
def app(world: World, schedule: FakeSchedule) -> TrainsyncApp:
    build_actors(world)
    return TrainsyncApp(world.settings, schedule=schedule)
