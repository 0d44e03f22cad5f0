"""The app with a 100,000-entry discrepancy tree: time to first paint and key latency while a
real sync runs (embedded loopback S3). `python -m trainsync_tui.bench.app_tree [--entries N]`.

Targets: first paint ≤ 1 s, key latency ≤ 100 ms. Needs moto (the `demo` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual import events

from trainsync_tui.engine.listing import LocalFile, ManifestEntry, RemoteObject
from trainsync_tui.engine.plan import Action, Category, Plan

SYNTHETIC = "0000_synthetic"
REAL = "0001_bench"


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


def summarise(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{name:<34} n={len(ms):<4} median {statistics.median(ms):6.1f} ms"
        f"  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms"
    )


async def measure(entries: int, files: int, freeze: bool = True) -> list[str]:
    from trainsync_tui.app.adapter import freeze_big_heap
    from trainsync_tui.app.app import TrainsyncApp
    from trainsync_tui.app.widgets.actors import ActorsPane
    from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
    from trainsync_tui.app.widgets.header import ActorHeader
    from trainsync_tui.app.widgets.state import ActorState
    from trainsync_tui.app.widgets.tree_model import build_model
    from trainsync_tui.demo import setup_demo
    from trainsync_tui.engine.api import SyncOptions

    out: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="trainsync-app-bench-"))
    settings, server = setup_demo(root)
    try:
        make_real_actor(root, files)
        app = TrainsyncApp(settings, audit_concurrency=3)
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 120
            while not (REAL in app.states and app.states[REAL].plan is not None):
                if time.monotonic() > deadline:
                    raise SystemExit("the bench actor was never audited")
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()

            started = time.perf_counter()
            plan = synthetic_plan(entries, app.clock())
            made = time.perf_counter()
            model = build_model(plan)
            if freeze:  # what the audit worker does after building a big model
                freeze_big_heap(plan.total_paths)
            out.append(f"gc.freeze after the model: {freeze}")
            out.append(f"synthetic plan of {entries:,} entries: {made - started:.2f} s (bench)")
            out.append(
                f"tree model from the plan (worker thread): {time.perf_counter() - made:.2f} s"
            )

            state = ActorState(SYNTHETIC)
            app.states = {SYNTHETIC: state, **app.states}
            pane = app.query_one(ActorsPane)
            pane.set_actors(app.states.values())
            pane.select(SYNTHETIC)
            await pilot.pause()
            tree = app.query_one(DiscrepancyTree)
            tree.focus()

            started = time.perf_counter()
            state.plan, state.model, state.status = plan, model, "diff"
            app._refresh(state, tree=True)  # what AuditFinished does on the UI thread
            shown = time.perf_counter()
            await pilot.pause()
            out.append(
                f"first paint of the tree: {(shown - started) * 1000:.0f} ms on the UI "
                f"thread, {(time.perf_counter() - started) * 1000:.0f} ms until idle"
            )

            async def key(name: str, done: Callable[[], bool]) -> float:
                """From the key event posted to the app until its effect is visible."""
                begun = time.perf_counter()
                event = events.Key(name, " " if name == "space" else None)
                event.set_sender(app)  # as the terminal driver does
                app.post_message(event)
                while not done():
                    if time.perf_counter() - begun > 10:
                        raise SystemExit(f"key {name!r} had no effect within 10 s")
                    await asyncio.sleep(0.0005)
                return time.perf_counter() - begun

            async def move(name: str) -> float:
                before = tree.cursor_line
                return await key(name, lambda: tree.cursor_line != before)

            async def toggle() -> float:
                before = len(state.marks)
                return await key("space", lambda: len(state.marks) != before)

            begun = time.perf_counter()
            group = tree.root.children[1]  # "Download from S3": one flat 30k-file folder
            group.expand()
            await pilot.pause()
            group.children[0].expand()  # its first batch of 500 only
            await pilot.pause()
            tree.move_cursor(group.children[0].children[5])
            await pilot.pause()
            out.append(
                f"open the group and its 30k-file folder: "
                f"{(time.perf_counter() - begun) * 1000:.0f} ms until idle"
            )

            idle = [await move("down") for _ in range(30)]
            out.append(summarise("cursor move, idle", idle))

            app.start_sync(app.states[REAL], SyncOptions())
            while "transferring" not in (app.states[REAL].message or ""):
                await asyncio.sleep(0.01)
            moves: list[float] = []
            toggles: list[float] = []
            for n in range(200):
                if app.states[REAL].status != "syncing":
                    break
                moves.append(await move("down" if n % 4 else "up"))
                if n % 3 == 0:  # mark and unmark the file under the cursor
                    toggles += [await toggle(), await toggle()]
                await asyncio.sleep(0.02)  # a person types a key every few tens of ms at most
            out.append(summarise("cursor move during a sync", moves))
            out.append(summarise("space toggle during a sync", toggles))
            out.append(
                f"sync still running after the samples: {app.states[REAL].status == 'syncing'}"
            )
            if app.states[REAL].status == "syncing":
                pane.select(REAL)
                await pilot.pause()
                stopped = await key("escape", lambda: app.states[REAL].status != "syncing")
                out.append(
                    f"escape until the sync has stopped cleanly: {stopped:.2f} s "
                    f"({app.query_one(ActorHeader).message})"
                )
    finally:
        server.stop()  # type: ignore[attr-defined]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainsync_tui.bench.app_tree")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=3000, help="files the background sync uploads")
    parser.add_argument("--no-freeze", action="store_true", help="compare: no gc.freeze()")
    args = parser.parse_args(argv)
    for line in asyncio.run(measure(args.entries, args.files, not args.no_freeze)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
