"""Syncs and audits against an S3 endpoint that accepts connections and never answers, from
the first request or once the transfers begin: each run must end with a clear one-line error
within its deadline, or stop soon after SIGINT/SIGTERM, and leave files and manifest as a
consistent state from which the next sync converges. A run that does neither is a hang."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.faults import next_sync_problems
from tests.reliability.rig import (
    ACTOR,
    Expected,
    add_work,
    cli_command,
    cli_env,
    interrupted_state_problems,
    leaked_secrets,
    tree_outside,
)
from tests.silent_s3 import SilentEndpoint, silent_endpoint
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

# (command, when S3 falls silent, how the run is meant to end)
POINTS = (
    ("sync", "at once", "deadline"),
    ("audit", "at once", "deadline"),
    ("sync", "at once", "SIGINT"),
    ("sync", "at once", "SIGTERM"),
    ("audit", "at once", "SIGINT"),
    ("sync", "mid transfer", "deadline"),
    ("sync", "mid transfer", "SIGINT"),
)
# Short settings, so a run that honours them ends in seconds.
DEADLINE = 2.0
SHORT = {
    "TRAINSYNC_CONNECT_TIMEOUT": "0.5",
    "TRAINSYNC_READ_TIMEOUT": "0.5",
    "TRAINSYNC_REQUEST_DEADLINE": f"{DEADLINE:g}",
}
# What a run may take beyond its deadline before it counts as a hang: the interpreter's
# start-up and the requests already under way when the first one gave up (measured up to
# 7 s mid-transfer here). A stop must come within the second the README promises.
DEADLINE_SLACK = 12.0
STOP_LIMIT = 1.0
_GIVE_UP = 120.0  # a hung process is killed after this long, and counted as a hang


@dataclass
class SilentRun:
    point: str
    hangs: int = 0
    seconds: float = 0.0  # start to exit (deadline runs) or signal to exit (stopped runs)
    problems: list[str] = field(default_factory=list)
    converged: bool = False
    leaks: list[str] = field(default_factory=list)
    outside: int = 0


def label(point: tuple[str, str, str]) -> str:
    command, when, end = point
    how = "its deadline" if end == "deadline" else end
    return f"silent S3 {when}: {command} ends by {how}"


def _snapshot(world: World) -> dict[str, str]:
    """MD5 of every file of the actor (manifest included) except trainsync's own state."""
    actor_dir = world.actor_dir(ACTOR)
    found: dict[str, str] = {}
    for path in sorted(actor_dir.rglob("*")) if actor_dir.exists() else []:
        rel = path.relative_to(actor_dir)
        if path.is_file() and rel.parts[0] != ".trainsync":
            found[rel.as_posix()] = hashlib.md5(path.read_bytes()).hexdigest()
    return found


def _transfer(request: Request) -> bool:
    """An object's bytes going up or down (not a listing, not the lease, not a HEAD)."""
    target = request.target.partition("?")[0]
    if target.endswith(LEASE_SUFFIX) or "list-type" in request.target:
        return False
    return request.method in ("PUT", "GET") and "/training_data/" in target


def silent_once(
    world: World,
    base: Path,
    upstream_port: int,
    expected: Expected,
    rng: random.Random,
    point: tuple[str, str, str],
    tag: str,
) -> SilentRun:
    command, when, end = point
    run = SilentRun(label(point))
    add_work(world, expected, rng, small_up=6, small_down=6, changes=2, tag=tag)
    before_outside = tree_outside(base, [world.actor_dir(ACTOR)])
    before = _snapshot(world)
    env = cli_env(world, base, TRAINSYNC_CONCURRENCY="4", **(SHORT if end == "deadline" else {}))
    if when == "at once":
        with silent_endpoint() as silent:
            out, err, code = _run(run, world, env, command, silent.url, end, silent=silent)
        # Nothing was reachable, so nothing the user sees may have changed.
        if _snapshot(world) != before:
            run.problems.append("files or manifest changed although S3 never answered")
    else:
        # S3 answers the lease and the listings, then holds every transfer (forwarded,
        # never answered: a PUT may land without its reply).
        with FaultProxy(
            upstream_port,
            {"stall": 1.0},
            seed=rng.randrange(1 << 30),
            stall_seconds=3600,
            applies=_transfer,
        ) as proxy:
            out, err, code = _run(run, world, env, command, proxy.url, end, proxy=proxy)
        run.problems += [
            f"after the silence: {p}" for p in interrupted_state_problems(world, expected)
        ]
    _check_exit(run, command, end, code, err)
    problems, _ = next_sync_problems(world, expected)
    run.problems += problems
    after_outside = tree_outside(base, [world.actor_dir(ACTOR)])
    run.outside = sum(
        before_outside.get(p) != after_outside.get(p) for p in before_outside | after_outside
    )
    run.converged = not run.problems and not run.outside and not run.hangs
    run.leaks = leaked_secrets({"stdout": out, "stderr": err})
    return run


def _run(
    run: SilentRun,
    world: World,
    env: dict[str, str],
    command: str,
    url: str,
    end: str,
    *,
    silent: SilentEndpoint | None = None,
    proxy: FaultProxy | None = None,
) -> tuple[str, str, int]:
    """Start the CLI against `url`, signal it once S3 holds a request if `end` is a signal,
    and time it; a process still running long after it should have ended is a hang."""
    args = cli_command(world, "--json", endpoint=url)
    if command == "audit":
        args[args.index("sync") : args.index("sync") + 2] = ["audit", "0042", ACTOR]
        args.remove("--json")
    started = time.monotonic()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        if end != "deadline":
            held = _wait_held(proc, silent, proxy)
            if not held:
                run.problems.append("the run ended before S3 held any request")
            started = time.monotonic()
            proc.send_signal(signal.SIGINT if end == "SIGINT" else signal.SIGTERM)
        limit = STOP_LIMIT if end != "deadline" else DEADLINE + DEADLINE_SLACK
        try:
            out, err = proc.communicate(timeout=_GIVE_UP)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            run.hangs += 1
            run.problems.append(f"still running {_GIVE_UP:g} s later: killed")
            return out, err, proc.returncode
        run.seconds = time.monotonic() - started
        if run.seconds > limit:
            run.hangs += 1
            run.problems.append(f"took {run.seconds:.1f} s to end (limit {limit:g} s)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out, err, proc.returncode


def _wait_held(
    proc: subprocess.Popen[str], silent: SilentEndpoint | None, proxy: FaultProxy | None
) -> bool:
    """Until S3 holds one of the run's requests (polling another process's readiness)."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if silent is not None and silent.wait_for_connections(1, timeout=0.05):
            return True
        if proxy is not None and proxy.counts["stall"] > 0:
            return True
        time.sleep(0.01)
    return False


def _check_exit(run: SilentRun, command: str, end: str, code: int, err: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if "Traceback" in err:
        run.problems.append(f"{command} printed a traceback: {lines[-1:]}")
    if end != "deadline":
        if code != 130 or "cancelling" not in err:
            run.problems.append(f"{command} did not stop as cancelled ({code}): {lines[-2:]}")
        return
    # The run-stopping error (or every path's error, mid transfer) names the endpoint.
    if code not in (1, 2) or not any("did not answer" in line for line in lines):
        run.problems.append(f"{command} did not end with a clear error ({code}): {lines[-2:]}")
