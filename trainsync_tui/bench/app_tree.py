"""The app with a 100,000-entry discrepancy tree: time to first paint and key latency while a
real sync runs (embedded loopback S3).
`python -m trainsync_tui.bench.app_tree [--entries N] [--json]`.

Targets: first paint ≤ 1 s, key latency ≤ 100 ms. Needs moto (the `demo` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events

from trainsync_tui.engine.errors import ConfigError
from trainsync_tui.engine.plan.build import Action, Category, Plan
from trainsync_tui.engine.scanned import LocalFile, ManifestEntry, RemoteObject

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from trainsync_tui.app.app import TrainsyncApp
    from trainsync_tui.app.models.actor_state import ActorState
    from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree

SYNTHETIC = "0000_synthetic"
REAL = "0001_bench"


@dataclass(frozen=True)
class Latency:
    """Times from a key press until its effect is visible, in ms (all 0 when n is 0)."""

    n: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        if not samples:
            return cls()
        ms = sorted(s * 1000 for s in samples)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        return cls(len(ms), round(statistics.median(ms), 1), round(p95, 1), round(ms[-1], 1))

    def line(self, name: str) -> str:
        if not self.n:
            return f"{name:<34} no samples"
        return (
            f"{name:<34} n={self.n:<4} median {self.median_ms:6.1f} ms"
            f"  p95 {self.p95_ms:6.1f} ms  max {self.max_ms:6.1f} ms"
        )


@dataclass
class AppFigures:
    """What one measurement found; `lines` is the same for a person to read."""

    entries: int
    model_build_ms: float = 0.0  # in the audit worker thread, off the UI thread
    first_paint_ms: float = 0.0  # on the UI thread
    until_idle_ms: float = 0.0  # from the same start as first_paint_ms, so it includes it
    cursor_idle: Latency = field(default_factory=Latency)
    cursor_sync: Latency = field(default_factory=Latency)
    toggle_sync: Latency = field(default_factory=Latency)
    sync_running_at_end: bool = False
    escape_stop_s: float | None = None  # None when the sync had ended before the samples did
    lines: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def synthetic_plan(entries: int, now: float) -> Plan:
    """60% uploads in 600-file folders, 30% downloads in one flat folder, 10% manifest fixes."""
    actions = []
    for n in range(entries):
        share = n % 10
        if share < 6:
            path, category = f"shards/s{n // 600:04}/f{n:07}.bin", Category.UPLOAD
        elif share < 9:
            path, category = f"frames/f{n:07}.bin", Category.DOWNLOAD
        else:
            path, category = f"meta/m{n // 1000:03}/m{n:07}.json", Category.UPDATE_MANIFEST
        local = LocalFile(path, 4096 + n % 977, now - n, "0" * 32)
        remote = RemoteObject(path, path, local.size, '"x"', now - 2 * n, "1" * 32)
        actions.append(Action(path, category, (), local, remote, ManifestEntry("2" * 32, 1)))
    actions.sort(key=lambda a: a.path)
    return Plan(tuple(actions), total_paths=entries)


def make_real_actor(root: Path, files: int) -> None:
    """Local-only files the measured sync uploads while keys are pressed."""
    top = root / "data" / "actors" / REAL / "training_data"
    for n in range(files):
        target = top / f"d{n // 200:03}" / f"f{n:05}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(16 * 1024))


class _Keys:
    """Key presses posted the way the terminal driver posts them, timed until visible."""

    def __init__(self, app: TrainsyncApp, tree: DiscrepancyTree, state: ActorState) -> None:
        self.app, self.tree, self.state = app, tree, state

    async def key(self, name: str, done: Callable[[], bool]) -> float:
        begun = time.perf_counter()
        event = events.Key(name, " " if name == "space" else None)
        event.set_sender(self.app)  # as the terminal driver does
        self.app.post_message(event)
        while not done():
            if time.perf_counter() - begun > 10:
                raise SystemExit(f"key {name!r} had no effect within 10 s")
            await asyncio.sleep(0.0005)
        return time.perf_counter() - begun

    async def move(self, name: str) -> float:
        before = self.tree.cursor_line
        return await self.key(name, lambda: self.tree.cursor_line != before)

    async def toggle(self) -> float:
        before = len(self.state.marks)
        return await self.key("space", lambda: len(self.state.marks) != before)


async def _wait_for_audit(app: TrainsyncApp, pilot: Pilot[Any]) -> None:
    deadline = time.monotonic() + 120
    while not (REAL in app.main.states and app.main.states[REAL].plan is not None):
        if time.monotonic() > deadline:
            raise SystemExit("the bench actor was never audited")
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()


async def _first_paint(
    app: TrainsyncApp, pilot: Pilot[Any], figures: AppFigures, freeze: bool
) -> _Keys:
    """Build the model as the audit worker would, then show it as AuditFinished does."""
    from trainsync_tui.app.adapter import freeze_big_heap
    from trainsync_tui.app.models.actor_state import ActorState
    from trainsync_tui.app.models.tree_model import build_model
    from trainsync_tui.app.widgets.actors import ActorsPane
    from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree

    out = figures.lines
    started = time.perf_counter()
    plan = synthetic_plan(figures.entries, app.clock())
    made = time.perf_counter()
    model = build_model(plan)
    if freeze:  # what the audit worker does after building a big model
        freeze_big_heap(plan.total_paths)
    figures.model_build_ms = round((time.perf_counter() - made) * 1000, 1)
    out.append(f"gc.freeze after the model: {freeze}")
    out.append(f"synthetic plan of {figures.entries:,} entries: {made - started:.2f} s (bench)")
    out.append(f"tree model from the plan (worker thread): {figures.model_build_ms / 1000:.2f} s")

    state = ActorState(SYNTHETIC)
    app.main.states = {SYNTHETIC: state, **app.main.states}
    pane = app.query_one(ActorsPane)
    pane.set_actors(app.main.states.values())
    pane.select(SYNTHETIC)
    await pilot.pause()
    tree = app.query_one(DiscrepancyTree)
    tree.focus()

    started = time.perf_counter()
    state.plan, state.model, state.status = plan, model, "diff"
    app.main.show(state, tree=True)  # what AuditFinished does on the UI thread
    shown = time.perf_counter()
    await pilot.pause()
    figures.first_paint_ms = round((shown - started) * 1000, 1)
    figures.until_idle_ms = round((time.perf_counter() - started) * 1000, 1)
    out.append(
        f"first paint of the tree: {figures.first_paint_ms:.0f} ms on the UI "
        f"thread, {figures.until_idle_ms:.0f} ms until idle"
    )
    return _Keys(app, tree, state)


async def _open_big_folder(keys: _Keys, pilot: Pilot[Any], figures: AppFigures) -> None:
    begun = time.perf_counter()
    group = keys.tree.root.children[1]  # "Download from S3": one flat folder, 30% of entries
    group.expand()
    await pilot.pause()
    group.children[0].expand()  # its first batch of 500 only
    await pilot.pause()
    keys.tree.move_cursor(group.children[0].children[5])
    await pilot.pause()
    figures.lines.append(
        f"open the group and its {figures.entries * 3 // 10:,}-file folder: "
        f"{(time.perf_counter() - begun) * 1000:.0f} ms until idle"
    )


async def _during_sync(keys: _Keys, pilot: Pilot[Any], figures: AppFigures) -> None:
    """Cursor moves and mark toggles while the real actor uploads, then escape stops it."""
    from trainsync_tui.app.widgets.actors import ActorsPane
    from trainsync_tui.app.widgets.header import ActorHeader
    from trainsync_tui.engine.facade import SyncOptions

    app, out = keys.app, figures.lines
    real = app.main.states[REAL]  # the app keeps an actor's state object for its lifetime

    def syncing() -> bool:
        return app.main.status_of(REAL) == "syncing"

    app.main.start_sync(real, SyncOptions())
    while "transferring" not in (real.message or ""):
        await asyncio.sleep(0.01)
    moves: list[float] = []
    toggles: list[float] = []
    for n in range(200):
        if not syncing():
            break
        moves.append(await keys.move("down" if n % 4 else "up"))
        if n % 3 == 0:  # mark and unmark the file under the cursor
            toggles += [await keys.toggle(), await keys.toggle()]
        await asyncio.sleep(0.02)  # a person types a key every few tens of ms at most
    figures.cursor_sync, figures.toggle_sync = Latency.of(moves), Latency.of(toggles)
    figures.sync_running_at_end = syncing()
    out.append(figures.cursor_sync.line("cursor move during a sync"))
    out.append(figures.toggle_sync.line("space toggle during a sync"))
    out.append(f"sync still running after the samples: {figures.sync_running_at_end}")
    if figures.sync_running_at_end:
        app.query_one(ActorsPane).select(REAL)
        await pilot.pause()
        stopped = await keys.key("escape", lambda: not syncing())
        figures.escape_stop_s = round(stopped, 2)
        out.append(
            f"escape until the sync has stopped cleanly: {stopped:.2f} s "
            f"({app.query_one(ActorHeader).message})"
        )


async def measure(entries: int, files: int, freeze: bool = True) -> AppFigures:
    from trainsync_tui.app.app import TrainsyncApp
    from trainsync_tui.demo import setup_demo

    figures = AppFigures(entries)
    root = Path(tempfile.mkdtemp(prefix="trainsync-app-bench-"))
    try:
        settings, server = setup_demo(root)
        try:
            make_real_actor(root, files)
            app = TrainsyncApp(settings, audit_concurrency=3)
            async with app.run_test(size=(80, 24)) as pilot:
                await _wait_for_audit(app, pilot)
                keys = await _first_paint(app, pilot, figures, freeze)
                await _open_big_folder(keys, pilot, figures)
                figures.cursor_idle = Latency.of([await keys.move("down") for _ in range(30)])
                figures.lines.append(figures.cursor_idle.line("cursor move, idle"))
                await _during_sync(keys, pilot, figures)
        finally:
            server.stop()  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(root, ignore_errors=True)  # 3,000 files and a cache per run otherwise
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainsync_tui.bench.app_tree")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=3000, help="files the background sync uploads")
    parser.add_argument("--no-freeze", action="store_true", help="compare: no gc.freeze()")
    parser.add_argument("--json", action="store_true", help="one JSON object: figures and lines")
    args = parser.parse_args(argv)
    try:
        figures = asyncio.run(measure(args.entries, args.files, not args.no_freeze))
    except ConfigError as error:  # moto missing: one line, not a traceback
        print(f"app_tree: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures.to_json()))
    else:
        print("\n".join(figures.lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
