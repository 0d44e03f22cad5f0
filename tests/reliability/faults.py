"""Fault scenarios, shared by the CI tests and the soak: a sync through the fault proxy."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    add_work,
    cli_env,
    end_state_problems,
    history_text,
    interrupted_state_problems,
    leaked_secrets,
    run_cli,
)
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.events import Event
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

# SPEC's bar: under 5% errors + 1% cut bodies a sync completes with every file verified.
LIGHT_FAULTS = {"error500": 0.015, "slowdown": 0.015, "reset": 0.02, "cut": 0.01, "stall": 0.01}


@dataclass
class FaultRun:
    """What one faulted sync did and what was wrong afterwards (empty lists = all good)."""

    injected: Counter[str] = field(default_factory=Counter)
    files: int = 0
    problems: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    converged: bool = False


def engine_sync(world: World, endpoint: str) -> tuple[SyncReport, list[str]]:
    """One in-process sync through `endpoint`; returns the report and every event as text."""
    settings = dataclasses.replace(
        world.settings, endpoint_url=endpoint, multipart_threshold=PART, multipart_chunksize=PART
    )
    events: list[str] = []

    def sink(event: Event) -> None:
        events.append(json.dumps(event.to_json()))

    engine = Engine(settings)
    try:
        return engine.sync(engine.actor(ACTOR), SyncOptions(), sink=sink), events
    finally:
        engine.close()


def next_sync_problems(world: World, expected: Expected) -> tuple[list[str], SyncReport]:
    """The next plain sync, in-process, after an interrupted or faulted one: what is wrong
    with what it reported and with the state it leaves (exactly `expected`), and its report."""
    again, _ = engine_sync(world, world.url)
    problems: list[str] = []
    if again.errors or again.conflicts or again.cancelled:
        problems.append(f"the next sync reported {again.errors} {again.conflicts}")
    return problems + end_state_problems(world, expected.final()), again


def light_faults_run(
    world: World, upstream_port: int, seed: int, *, small: int = 120, big: int = 2
) -> FaultRun:
    """A sync of a few hundred files (some multipart) under light faults must just work."""
    rng = random.Random(seed)
    expected = Expected()
    add_work(world, expected, rng, small_up=small, small_down=small, big_up=big, big_down=big)
    run = FaultRun(files=len(expected.versions))
    with FaultProxy(upstream_port, LIGHT_FAULTS, seed=seed, stall_seconds=0.3) as proxy:
        report, events = engine_sync(world, proxy.url)
    run.injected = proxy.counts
    run.errors = list(report.errors)
    run.problems = end_state_problems(world, expected.final())
    run.leaks = leaked_secrets(
        {
            "report": json.dumps(report.to_json()),
            "events": "\n".join(events),
            "history": history_text(world),
        }
    )
    run.converged = not run.errors and not run.problems and not report.conflicts
    return run


def _object_request(request: Request) -> bool:
    """A PUT, GET or HEAD of one object (not a listing): the transfers, not the audit."""
    path, _, query = request.target.partition("?")
    if path.endswith(LEASE_SUFFIX):
        return False  # the actor's lease is taken before the audit, not a transfer
    if request.method == "PUT":
        return True
    return request.method in ("GET", "HEAD") and "list-type" not in query and "uploads" not in query


def total_failure_run(
    world: World, base: Path, upstream_port: int, seed: int, *, only_transfers: bool
) -> FaultRun:
    """Every request (or every object transfer) fails: a clean failure, consistent state,
    and the next sync without faults converges."""
    rng = random.Random(seed)
    expected = Expected()
    add_work(world, expected, rng, small_up=6, small_down=6, big_up=1, big_down=1, tag="a")
    engine_sync(world, world.url)  # a first, clean sync: there is a manifest to keep intact
    add_work(world, expected, rng, small_up=6, small_down=6, big_up=1, changes=4, tag="b")
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    before = manifest.read_bytes()
    run = FaultRun(files=len(expected.versions))
    env = cli_env(world, base)
    applies = _object_request if only_transfers else None
    with FaultProxy(upstream_port, {"error500": 1.0}, seed=seed, applies=applies) as proxy:
        failed = run_cli(world, env, "-v", endpoint=proxy.url)
    run.injected = proxy.counts
    if failed.returncode not in (1, 2):
        run.problems.append(f"exit code {failed.returncode}, expected 1 or 2")
    if "Traceback" in failed.stderr:
        run.problems.append("a traceback on stderr")
    if not only_transfers and manifest.read_bytes() != before:
        run.problems.append("manifest changed by a run that could not reach S3")
    try:
        report = json.loads(failed.stdout)
    except ValueError:
        run.problems.append(f"stdout is not one JSON object: {failed.stdout[:200]!r}")
        report = {}
    if only_transfers and not report.get("errors"):
        run.problems.append("no per-path errors reported")
    if not only_transfers and "error" not in report:
        run.problems.append(f"no one-line error: {report}")
    run.errors = report.get("errors") or [report.get("error", "")]
    run.problems += interrupted_state_problems(world, expected)
    again = run_cli(world, env)
    if again.returncode != 0:
        run.problems.append(f"the sync after the faults exited {again.returncode}: {again.stdout}")
    run.problems += end_state_problems(world, expected.final())
    run.leaks = leaked_secrets(
        {
            "stdout": failed.stdout + again.stdout,
            "stderr": failed.stderr + again.stderr,
            "history": history_text(world),
        }
    )
    run.converged = not run.problems
    return run


# Four in ten requests fail: botocore's six attempts give up now and then, so some paths
# end in a per-path error, which the next sync must repair.
HEAVY_FAULTS = {"error500": 0.12, "slowdown": 0.08, "reset": 0.1, "cut": 0.08, "stall": 0.02}


def heavy_faults_run(world: World, upstream_port: int, seed: int) -> FaultRun:
    """Many requests fail: some paths may give up (reported per path), nothing is corrupt,
    and the next sync without faults converges."""
    rng = random.Random(seed)
    expected = Expected()
    add_work(world, expected, rng, small_up=80, small_down=80, big_up=1, big_down=1)
    run = FaultRun(files=len(expected.versions))
    with FaultProxy(upstream_port, HEAVY_FAULTS, seed=seed, stall_seconds=0.2) as proxy:
        try:
            report, events = engine_sync(world, proxy.url)
            run.errors = list(report.errors)
            texts = {"report": json.dumps(report.to_json()), "events": "\n".join(events)}
        except TrainsyncError as exc:  # the audit itself may fail, with a one-line error
            run.errors = [str(exc)]
            texts = {"error": str(exc)}
    run.injected = proxy.counts
    run.problems = interrupted_state_problems(world, expected)
    problems, _ = next_sync_problems(world, expected)
    run.problems += problems
    run.leaks = leaked_secrets({**texts, "history": history_text(world)})
    run.converged = not run.problems
    return run
