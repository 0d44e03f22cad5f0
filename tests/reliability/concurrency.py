"""Two syncs of one actor at once, and files written to while they are being uploaded."""

from __future__ import annotations

import json
import random
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.faults import engine_sync
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    add_work,
    blob,
    cli_command,
    cli_env,
    end_state_problems,
    s3_md5s,
)


@dataclass
class ConcurrencyRun:
    problems: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    caught: int = 0  # uploads refused because the file changed under them
    converged: bool = False


def two_processes(
    world: World, base: Path, upstream_port: int, seed: int, *, wait: bool
) -> ConcurrencyRun:
    """Start sync A (slowed by a proxy that holds every PUT), then B, C on the same actor.

    Without --wait B and C must refuse at once with a message naming the holder; with
    --wait they run after A, and since A did everything, they have nothing left to do:
    uploads add up to the number of files, which fails if two ran at once.
    """
    rng = random.Random(seed)
    expected = Expected()
    add_work(world, expected, rng, small_up=30, small_down=10, big_up=1)
    uploads = sum(1 for p in expected.versions if p.startswith(("up/", "big/")))
    env = cli_env(world, base, TRAINSYNC_CONCURRENCY="2")
    run = ConcurrencyRun()
    with FaultProxy(upstream_port, {"stall": 1.0}, stall_seconds=0.05,
                    applies=lambda r: r.method == "PUT") as proxy:
        first = subprocess.Popen(
            cli_command(world, "--json", endpoint=proxy.url),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        holding = threading.Event()

        def watch() -> None:
            # A PUT reaching the proxy means A holds the lock (it is taken before the scan).
            while first.poll() is None and not holding.is_set():
                if any(m == "PUT" for m, _ in list(proxy.log)):
                    holding.set()
                holding.wait(0.002)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        if not holding.wait(120):
            run.problems.append("the first sync never started uploading")
        extra = ["--wait"] if wait else []
        others = [
            subprocess.Popen(
                cli_command(world, "--json", *extra), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env,
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=300) for p in [first, *others]]
        watcher.join(5)
    codes = [first.returncode] + [p.returncode for p in others]
    reports = []
    for out, _ in results:
        try:
            reports.append(json.loads(out))
        except ValueError:
            reports.append({"unparsed": out})
    if codes[0] != 0:
        run.problems.append(f"the first sync exited {codes[0]}: {results[0]}")
    for code, report, (_, err) in zip(codes[1:], reports[1:], results[1:], strict=True):
        if wait:
            if code != 0 or report.get("uploaded") or report.get("downloaded"):
                run.problems.append(f"a waiting sync did work or failed ({code}): {report}")
        else:
            message = report.get("error", "")
            run.refusals.append(message)
            if code != 1 or "already being synced by" not in message or "Traceback" in err:
                run.problems.append(f"a second sync did not refuse clearly ({code}): {report}")
    total = sum(r.get("uploaded", 0) for r in reports)
    if total != uploads:
        run.problems.append(f"{total} uploads for {uploads} files: two syncs overlapped")
    run.problems += end_state_problems(world, expected.final())
    run.converged = not run.problems
    return run


def written_while_uploading(world: World, upstream_port: int, seed: int) -> ConcurrencyRun:
    """Writers append to and rewrite in place (same size) files during their upload.

    The manifest may record a path only with the MD5 of the bytes S3 holds, and the
    next sync, once the writers stop, converges.
    """
    rng = random.Random(seed)
    run = ConcurrencyRun()
    names = {f"grow{i}.bin": blob(rng, rng.choice([20_000, PART + 2 * 1024 * 1024]))
             for i in range(4)}
    names |= {f"poke{i}.bin": blob(rng, rng.choice([30_000, PART + 1024 * 1024]))
              for i in range(4)}
    for path, data in names.items():
        world.put_local(ACTOR, path, data)
    stop = threading.Event()

    def writer(path: str) -> None:
        target = world.local_path(ACTOR, path)
        local_rng = random.Random(path)
        while not stop.wait(0.003):
            if path.startswith("grow"):
                with open(target, "ab") as handle:
                    handle.write(local_rng.randbytes(64))
            else:
                with open(target, "r+b") as handle:
                    handle.seek(local_rng.randrange(target.stat().st_size))
                    handle.write(local_rng.randbytes(8))

    threads = [threading.Thread(target=writer, args=(p,), daemon=True) for p in names]
    with FaultProxy(upstream_port, {"stall": 0.3}, seed=seed, stall_seconds=0.05) as proxy:
        for thread in threads:
            thread.start()
        try:
            report, _ = engine_sync(world, proxy.url)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    in_s3 = s3_md5s(world)
    for path, digest in world.manifest_md5s(ACTOR).items():
        if in_s3.get(path) != digest:
            run.problems.append(f"{path}: manifest MD5 is not the MD5 of the bytes in S3")
    run.caught = sum("changed" in e for e in report.errors)
    for error in report.errors:
        if "changed" not in error:
            run.problems.append(f"unexpected error: {error}")
    engine_sync(world, world.url)  # writers stopped: this one converges
    final = {p: world.read_local(ACTOR, p) for p in names}
    run.problems += end_state_problems(world, final)
    run.converged = not run.problems
    return run
