"""The reliability soak: many faulted syncs, kill -9s, cancels, hostile inputs; writes the table.

    python -m tests.reliability.soak --crashes 120 --faulted-requests 3000 --minutes 20

It stops by itself when the counts are reached or the time is up (whichever first), and
writes docs/RELIABILITY.md from what it measured. Exit status 1 if any run lost or
corrupted a file, wrote outside the actor's folders, leaked a secret, hung or did not
converge.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tests.conftest import World
from tests.reliability import (
    concurrency,
    crashes,
    faults,
    guards,
    hostile,
    resumes,
    rig,
    silent,
    soak_doc,
)
from tests.reliability.faultproxy import KINDS
from tests.reliability.hostile_cases import CASES
from tests.s3server import S3Server
from trainsync_tui.bench.server import NanioServer

DOC = rig.REPO / "docs" / "RELIABILITY.md"
FAILING_KINDS = ("error500", "slowdown", "reset", "cut")
TWO_ROOT_ROUNDS = 4  # two servers on one bucket: refused and --wait, each this many times


class LandedRun(Protocol):
    """A kill, cancel, resume or guard run, as a Row counts it."""

    problems: list[str]
    converged: bool
    hit: bool
    outside: int
    leaks: list[str]


@dataclass
class Row:
    """One line of the table: a family of runs and what went wrong in them, counted by the
    table's column (soak_doc's: tried, landed, lost, corrupt, outside, leaks, hangs,
    converged)."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(
        self,
        problems: list[str],
        *,
        converged: bool,
        landed: bool = True,
        outside: int = 0,
        leaks: int = 0,
        hangs: int = 0,
    ) -> None:
        self.counts.update(
            tried=1,
            landed=landed,
            lost=sum(p.startswith(("lost locally", "lost in S3")) for p in problems),
            corrupt=sum(
                any(w in p for w in ("corrupt", "partial", "never had", "not the MD5", "temp file"))
                for p in problems
            ),
            outside=outside,
            leaks=leaks,
            hangs=hangs,
            converged=converged,
        )
        self.examples += problems[:2] if len(self.examples) < 6 else []

    def add_run(self, run: LandedRun, problems: list[str] | None = None) -> None:
        """A run whose fault or kill may have missed its mark (`run.hit`)."""
        self.add(
            run.problems if problems is None else problems,
            converged=run.converged,
            landed=run.hit,
            outside=run.outside,
            leaks=len(run.leaks),
        )

    @property
    def failed(self) -> bool:
        counts = self.counts
        wrong = ("lost", "corrupt", "outside", "leaks", "hangs")
        return any(counts[k] for k in wrong) or counts["converged"] != counts["tried"]


@dataclass
class Soak:
    server: S3Server
    base: Path
    seed: int
    deadline: float
    rows: dict[str, Row] = field(default_factory=dict)
    injected: Counter[str] = field(default_factory=Counter)
    # Resume points: reruns that could resume, those that did, bytes kept, mixed objects.
    resume: Counter[str] = field(default_factory=Counter)
    # Silent endpoint: the longest signal-to-exit and start-to-deadline-error, in seconds.
    slowest: dict[str, float] = field(default_factory=lambda: {"stop": 0.0, "deadline": 0.0})
    # A server that hides part sizes, for the unverifiable-object case (None: cannot start).
    nanio: NanioServer | None = None
    # Guard cases that could not run here, and why (no unshare, no nanio).
    skipped: dict[str, str] = field(default_factory=dict)
    _n: int = 0

    def row(self, name: str) -> Row:
        return self.rows.setdefault(name, Row())

    def fresh(self) -> tuple[rig.World, Path]:
        self._n += 1
        where = self.base / f"w{self._n}"
        where.mkdir()
        world = rig.new_world(self.server.url, where)
        os.environ["TRAINSYNC_CACHE_DIR"] = str(where / "cache")
        return world, where

    def points(
        self,
        once: rig.Once[rig.Point, rig.Run],
        points: Sequence[rig.Point],
        rng: random.Random,
        tag: str,
        start: int,
        count: int,
    ) -> Iterator[tuple[rig.Point, rig.Run]]:
        """`count` runs of `once` in one fresh world, rotating over `points` from `start`."""
        world, where = self.fresh()
        return rig.run_points(
            once, points, world, where, self.server.port, rng, tag, start=start, count=count
        )

    def count_faults(self, injected: Counter[str]) -> None:
        """Add a run's injected faults (the kinds the proxy knows) and its request count."""
        self.injected.update({k: v for k, v in injected.items() if k in KINDS})
        self.injected["requests"] += injected["requests"]

    def time_left(self) -> bool:
        return time.monotonic() < self.deadline

    @property
    def faulted(self) -> int:
        return sum(self.injected[k] for k in FAILING_KINDS)


def _say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def run_hostile(soak: Soak) -> None:
    for name in sorted(CASES):
        world_base = soak.base / f"h-{name}"
        world_base.mkdir()
        os.environ["TRAINSYNC_CACHE_DIR"] = str(world_base / "cache")
        run = hostile.run_case(name, soak.server.url, world_base)
        if run.skipped:
            continue
        row = soak.row(f"hostile input: {run.group}")
        row.add(run.problems, converged=not run.problems, outside=run.outside, leaks=len(run.leaks))
        row.counts["lost"] += run.lost


def run_concurrency(soak: Soak, seed: int) -> None:
    for wait in (False, True):
        world, where = soak.fresh()
        run = concurrency.two_processes(world, where, soak.server.port, seed, wait=wait)
        soak.row("two syncs at once" + (" (--wait)" if wait else "")).add(
            run.problems, converged=run.converged
        )
    for n, wait in enumerate((False, True) * TWO_ROOT_ROUNDS):
        world, where = soak.fresh()
        before = rig.tree_outside(where, [world.actor_dir(rig.ACTOR)])
        run = concurrency.two_roots(world, where, soak.server.port, seed * 100 + n, wait=wait)
        # Root B's actor folder is where B may write; anything else changed is outside.
        after = rig.tree_outside(
            where, [world.actor_dir(rig.ACTOR), where / "root-b" / "data" / "actors" / rig.ACTOR]
        )
        outside = sum(before.get(p) != after.get(p) for p in before.keys() | after.keys())
        soak.row("two roots, one bucket" + (" (--wait)" if wait else "")).add(
            run.problems, converged=run.converged, outside=outside
        )
    world, where = soak.fresh()
    run = concurrency.written_while_uploading(world, soak.server.port, seed)
    soak.row("files written during upload").add(
        run.problems, converged=run.converged, landed=run.caught > 0
    )


def run_faults(soak: Soak, seed: int, quota: int) -> None:
    """One light and one total-failure run, then heavy runs until `quota` faults in all."""
    world, _ = soak.fresh()
    run = faults.light_faults_run(world, soak.server.port, seed)
    soak.count_faults(run.injected)
    soak.row("faults: ~5% errors + 1% cut bodies").add(
        run.problems + [f"error: {e}" for e in run.errors],
        converged=run.converged,
        leaks=len(run.leaks),
    )
    world, where = soak.fresh()
    run = faults.total_failure_run(
        world, where, soak.server.port, seed, only_transfers=bool(seed % 2)
    )
    soak.count_faults(run.injected)
    soak.row("faults: 100% errors, then a clean sync").add(
        run.problems, converged=run.converged, leaks=len(run.leaks)
    )
    heavy = 0
    while soak.time_left() and (heavy == 0 or soak.faulted < quota):
        world, _ = soak.fresh()
        run = faults.heavy_faults_run(world, soak.server.port, seed * 1000 + heavy)
        heavy += 1
        soak.count_faults(run.injected)
        soak.row("faults: ~40% errors, then a clean sync").add(
            run.problems, converged=run.converged, leaks=len(run.leaks)
        )


def run_crashes(soak: Soak, rng: random.Random, count: int) -> None:
    """`count` kills rotating over the phases, a fresh world every 12 so syncs stay small."""
    world, where = soak.fresh()
    crashes.pad_manifest(world)
    kills = rig.run_points(
        crashes.kill_once, crashes.PHASES, world, where, soak.server.port, rng, "k", count=count
    )
    for phase, run in kills:
        soak.row(f"kill -9 during {phase}").add_run(run)


def run_cancels(soak: Soak, rng: random.Random, count: int) -> None:
    world, _ = soak.fresh()
    expected = rig.Expected()
    for i in range(count):
        point = crashes.CANCEL_POINTS[i % len(crashes.CANCEL_POINTS)]
        run = crashes.cancel_once(world, expected, rng, point, f"c{i}")
        soak.row(f"API cancel at {point}").add_run(run)


def run_resumes(soak: Soak, rng: random.Random, count: int, start: int) -> None:
    """`count` kill -9 resume points (rotating over the variants) in one fresh world."""
    for point, run in soak.points(resumes.resume_once, resumes.POINTS, rng, "r", start, count):
        soak.resume["points"] += 1
        soak.resume["resumable"] += run.resumable
        soak.resume["resumed"] += run.resumable and run.resumed > 0
        soak.resume["bytes"] += run.resumed
        soak.resume["mixed"] += run.mixed
        soak.row(resumes.label(point)).add_run(run)


def run_silent(soak: Soak, rng: random.Random, count: int, start: int) -> None:
    """`count` runs against a silent endpoint (rotating over the points) in one fresh world."""
    for point, run in soak.points(silent.silent_once, silent.POINTS, rng, "s", start, count):
        which = "deadline" if point[2] == "deadline" else "stop"
        soak.slowest[which] = max(soak.slowest[which], run.seconds)
        soak.row(silent.label(point)).add(
            run.problems,
            converged=run.converged,
            outside=run.outside,
            leaks=len(run.leaks),
            hangs=run.hangs,
        )


def run_guards(soak: Soak, rng: random.Random, count: int, start: int) -> None:
    """`count` guard cases (rotating over them), each in a fresh world."""
    for i in range(start, start + count):
        case = guards.CASES[i % len(guards.CASES)]
        world, where = soak.fresh()
        port, env = soak.server.port, None
        if case == "unverifiable":
            if soak.nanio is None:
                soak.skipped[case] = "nanio cannot start here"
                continue
            world = World(world.root, world.bucket, soak.nanio.url, soak.nanio.client())
            soak.nanio.create_bucket(world.bucket)
            port, env = soak.nanio.port, soak.nanio.client_env()
        run = guards.run_case(case, world, where, port, rng, f"g{i}", nanio_env=env)
        if run.skipped:
            soak.skipped[case] = run.skipped
            continue
        soak.row(guards.label(case)).add_run(
            run,
            [f"{run.variant}: {p}" if not p.startswith(("lost", "corrupt")) else p
             for p in run.problems],
        )  # fmt: skip


def _start_nanio(base: Path) -> NanioServer | None:
    nanio = NanioServer(base / "nanio")
    try:
        nanio.start()
    except (OSError, RuntimeError) as exc:
        _say(f"nanio cannot start ({exc}): the unverifiable-object case is skipped")
        return None
    return nanio


def soak_loop(soak: Soak, args: argparse.Namespace) -> None:
    rng = random.Random(soak.seed)
    _say(f"hostile inputs: {len(CASES)} cases")
    run_hostile(soak)
    _say("concurrency")
    run_concurrency(soak, soak.seed)
    kills = cancels = rounds = resumed = silenced = guarded = 0
    jobs: list[tuple[str, Callable[[], bool]]] = [
        ("kill", lambda: kills < args.crashes),
        ("fault", lambda: soak.faulted < args.faulted_requests),
        ("cancel", lambda: cancels < args.cancels),
        ("resume", lambda: resumed < args.resumes),
        ("silent", lambda: silenced < args.silent),
        ("guard", lambda: guarded < args.guards),
    ]
    while soak.time_left() and any(wanted() for _, wanted in jobs):
        for job, wanted in jobs:
            if not wanted() or not soak.time_left():
                continue
            if job == "kill":
                batch = min(12, args.crashes - kills)
                run_crashes(soak, rng, batch)
                kills += batch
            elif job == "fault":
                # Keep the faults in step with the kills, so both targets end together.
                share = min(1.0, (kills + 12) / max(1, args.crashes))
                run_faults(soak, soak.seed + rounds, int(args.faulted_requests * share))
                rounds += 1
            elif job == "cancel":
                batch = min(8, args.cancels - cancels)
                run_cancels(soak, rng, batch)
                cancels += batch
            elif job == "resume":
                batch = min(len(resumes.POINTS), args.resumes - resumed)
                run_resumes(soak, rng, batch, resumed)
                resumed += batch
            elif job == "silent":
                batch = min(len(silent.POINTS), args.silent - silenced)
                run_silent(soak, rng, batch, silenced)
                silenced += batch
            else:
                batch = min(len(guards.CASES), args.guards - guarded)
                run_guards(soak, rng, batch, guarded)
                guarded += batch
            _say(
                f"kills {kills}/{args.crashes}, cancels {cancels}/{args.cancels}, "
                f"resume points {resumed}/{args.resumes}, silent runs {silenced}/{args.silent}, "
                f"guard cases {guarded}/{args.guards}, "
                f"faulted requests {soak.faulted}/{args.faulted_requests}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak")
    parser.add_argument("--crashes", type=int, default=120, help="kill -9 points")
    parser.add_argument("--cancels", type=int, default=40, help="cancels through the API")
    parser.add_argument(
        "--resumes",
        type=int,
        default=42,
        help="kill -9 mid-transfer, then a rerun that resumes (or must not)",
    )
    parser.add_argument(
        "--silent",
        type=int,
        default=35,
        help="syncs and audits against an endpoint that never answers",
    )
    parser.add_argument(
        "--guards",
        type=int,
        default=40,
        help="issue 22's guard cases (lease, cloned root, mtime, symlink swap, unverifiable)",
    )
    parser.add_argument(
        "--faulted-requests",
        type=int,
        default=3000,
        help="requests failed by the proxy (500, 503, reset, cut body)",
    )
    parser.add_argument("--minutes", type=float, default=20.0, help="stop after this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DOC, help="where to write the table")
    args = parser.parse_args(argv)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY=rig.SECRET_KEY,
        AWS_SESSION_TOKEN=rig.SESSION_TOKEN,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    for key in [k for k in os.environ if k.startswith("TRAINSYNC_")]:
        del os.environ[key]
    base = Path(tempfile.mkdtemp(prefix="trainsync-soak-"))
    os.environ["TRAINSYNC_CONFIG"] = str(base / "no-user-config.toml")
    server = S3Server()
    server.start()
    started = time.monotonic()
    soak = Soak(server, base, args.seed, started + args.minutes * 60)
    soak.nanio = _start_nanio(base) if args.guards else None
    try:
        soak_loop(soak, args)
    finally:
        server.stop()
        if soak.nanio is not None:
            soak.nanio.stop()
        shutil.rmtree(base, ignore_errors=True)
    minutes = (time.monotonic() - started) / 60
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(soak_doc.render(soak, args, minutes))
    _say(f"wrote {args.out}")
    failed = [name for name, row in soak.rows.items() if row.failed]
    for name in failed:
        print(f"FAILED: {name}: {soak.rows[name].examples[:3]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
