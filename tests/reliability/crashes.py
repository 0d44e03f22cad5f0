"""kill -9 of a real `trainsync sync` process, and cancels through the engine's API, at
chosen moments; after each, the state must be consistent and the next sync must converge."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.faults import next_sync_problems
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    add_work,
    cli_env,
    history_text,
    interrupted_state_problems,
    leaked_secrets,
    poll_until,
    start_cli,
    tree_outside,
)
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import Event, FileStarted, ScanProgress, Stage
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

PHASES = ("scan", "upload", "download", "manifest")
CANCEL_POINTS = ("scan", "first file", "mid transfer", "random time")
# A big unknown field makes every manifest write take long enough to be killed inside.
_MANIFEST_PADDING = 4 * 1024 * 1024


@dataclass
class CrashRun:
    """One interruption: where it was aimed, whether it landed there, and what was wrong."""

    phase: str
    hit: bool = False
    problems: list[str] = field(default_factory=list)
    converged: bool = False
    leaks: list[str] = field(default_factory=list)
    outside: int = 0  # files created or changed outside the actor's folders


def _listing(request: Request) -> bool:
    return request.method == "GET" and "list-type" in request.target


def _is_object(method: str, target: str, verb: str) -> bool:
    if target.partition("?")[0].endswith(LEASE_SUFFIX):
        return False  # the actor's lease, taken before the scan: not a transfer
    return method == verb and "list-type" not in target and "?uploads" not in target


def _changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> int:
    return sum(before.get(p) != after.get(p) for p in before.keys() | after.keys())


def pad_manifest(world: World) -> None:
    """Give the actor a manifest with a large extra field (kept on every rewrite, SPEC §2)."""
    doc = {
        "version": 1,
        "actor_id": "0042",
        "actor_name": ACTOR,
        "files": {},
        "padding": "p" * _MANIFEST_PADDING,
    }
    path = world.actor_dir(ACTOR) / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def kill_once(
    world: World,
    base: Path,
    upstream_port: int,
    expected: Expected,
    rng: random.Random,
    phase: str,
    tag: str,
) -> CrashRun:
    """Start a sync with work of every kind, SIGKILL it in `phase`, check, re-sync, check."""
    # Multipart files only where the phase needs them: they are what makes a run slow.
    add_work(
        world,
        expected,
        rng,
        small_up=8,
        small_down=8,
        changes=3,
        tag=tag,
        big_up=int(phase in ("upload", "manifest")),
        big_down=int(phase == "download"),
    )
    run = CrashRun(phase)
    before = tree_outside(base, [world.actor_dir(ACTOR)])
    env = cli_env(world, base, TRAINSYNC_CONCURRENCY="4")
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"
    actor_dir = world.actor_dir(ACTOR)
    # Listings are held a little so the scan lasts long enough to be killed inside.
    rates = {"stall": 1.0} if phase == "scan" else {}
    with FaultProxy(
        upstream_port,
        rates,
        seed=rng.randrange(1 << 30),
        stall_seconds=0.15,
        applies=_listing if phase == "scan" else None,
    ) as proxy:
        proc = start_cli(world, env, "-v", endpoint=proxy.url)
        log = proxy.log

        def listing_started() -> bool:
            return any("list-type" in t for _, t in list(log))

        def uploading() -> bool:
            return any(_is_object(m, t, "PUT") for m, t in list(log))

        def downloading() -> bool:
            # The run renames or removes its temp files while we look: a vanished one is
            # just not a download in progress.
            try:
                return any(p.lstat().st_size > 0 for p in staging.iterdir() if p.is_file())
            except FileNotFoundError:
                return False

        def writing_manifest() -> bool:
            return any(n.startswith(".manifest.json.") for n in os.listdir(actor_dir))

        try:
            if phase == "scan":
                landed = poll_until(listing_started, proc, 60, every=0.001)
                if landed:
                    time.sleep(rng.uniform(0, 0.25))  # the kill moment, drawn from the seed
                    landed = not uploading() and proc.poll() is None
            elif phase == "upload":
                landed = poll_until(uploading, proc, 60, every=0.001)
                if landed:
                    time.sleep(rng.uniform(0, 0.3))
                    landed = proc.poll() is None
            elif phase == "download":
                landed = poll_until(downloading, proc, 60, every=0.001)
                if landed:
                    time.sleep(rng.uniform(0, 0.05))
                    landed = proc.poll() is None
            else:
                landed = poll_until(writing_manifest, proc, 60, every=0.001)
        finally:
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=60)
    run.hit = landed and proc.returncode == -signal.SIGKILL
    run.problems = [f"after the kill: {p}" for p in interrupted_state_problems(world, expected)]
    # The next plain sync, in-process (one interpreter start less per kill point).
    problems, again = next_sync_problems(world, expected)
    run.problems += problems
    run.outside = _changed(before, tree_outside(base, [world.actor_dir(ACTOR)]))
    run.converged = not run.problems and not run.outside
    run.leaks = leaked_secrets(
        {
            "stdout": out,
            "stderr": err,
            "report": json.dumps(again.to_json()),
            "history": history_text(world),
        }
    )
    return run


def cancel_once(
    world: World, expected: Expected, rng: random.Random, point: str, tag: str
) -> CrashRun:
    """Cancel an in-process sync through its CancelToken at `point`; check and re-sync."""
    add_work(
        world, expected, rng, small_up=8, small_down=8, big_up=1, big_down=1, changes=3, tag=tag
    )
    run = CrashRun(point)
    before = tree_outside(world.root.parent, [world.actor_dir(ACTOR)])
    token = CancelToken()
    nth = rng.randint(1, 12)
    seen = {"files": 0}
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        token.cancel()

    def sink(event: Event) -> None:
        if point == "scan" and isinstance(event, (Stage, ScanProgress)):
            fire()
        elif isinstance(event, FileStarted):
            seen["files"] += 1
            if point == "first file" or (point == "mid transfer" and seen["files"] >= nth):
                fire()

    timer = threading.Timer(rng.uniform(0.0, 1.5), fire) if point == "random time" else None
    engine = Engine(
        dataclasses.replace(world.settings, multipart_threshold=PART, multipart_chunksize=PART)
    )
    try:
        if timer is not None:
            timer.start()
        report = engine.sync(engine.actor(ACTOR), SyncOptions(), cancel=token, sink=sink)
    finally:
        if timer is not None:
            timer.cancel()
        engine.close()
    run.hit = fired.is_set() and report.cancelled
    run.problems = [f"after the cancel: {p}" for p in interrupted_state_problems(world, expected)]
    problems, _ = next_sync_problems(world, expected)
    run.problems += problems
    run.outside = _changed(before, tree_outside(world.root.parent, [world.actor_dir(ACTOR)]))
    run.converged = not run.problems and not run.outside
    run.leaks = leaked_secrets(
        {"report": json.dumps(report.to_json()), "history": history_text(world)}
    )
    return run
