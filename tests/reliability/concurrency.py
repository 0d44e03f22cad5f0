"""Two syncs of one actor at once (one root, or two roots on one bucket), and files written to
while they are being uploaded."""

from __future__ import annotations

import json
import random
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.faults import engine_sync
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    add_work,
    blob,
    cli_env,
    end_state_problems,
    s3_md5s,
    start_cli,
)
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX


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
    with FaultProxy(
        upstream_port, {"stall": 1.0}, stall_seconds=0.05, applies=lambda r: r.method == "PUT"
    ) as proxy:
        first = start_cli(world, env, endpoint=proxy.url)
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
        others = [start_cli(world, env, *extra) for _ in range(2)]
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
    names = {
        f"grow{i}.bin": blob(rng, rng.choice([20_000, PART + 2 * 1024 * 1024])) for i in range(4)
    }
    names |= {f"poke{i}.bin": blob(rng, rng.choice([30_000, PART + 1024 * 1024])) for i in range(4)}
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


def two_roots(
    world: World, base: Path, upstream_port: int, seed: int, *, wait: bool
) -> ConcurrencyRun:
    """Two training servers (two roots, one bucket) sync one actor at the same time.

    Root A starts (slowed by a proxy that holds every PUT); once its lease is in S3, root B
    starts. Without --wait B refuses, naming A's lease; with --wait B runs after A and
    finds A's files in S3. Then each root syncs once more and both must hold the union of
    the files, exactly, with S3 and both manifests: nothing lost, nothing corrupt.
    """
    rng = random.Random(seed)
    expected = Expected()
    other = World(base / "root-b", world.bucket, world.url, world.s3)
    (other.root / "data" / "actors").mkdir(parents=True)
    add_work(world, expected, rng, small_up=20, small_down=10, big_up=1, tag="a")
    add_work(other, expected, rng, small_up=20, small_down=0, big_up=1, tag="b")
    ups_a = sum(1 for p in expected.versions if p.startswith(("upa/", "biga/")))
    ups_b = sum(1 for p in expected.versions if p.startswith(("upb/", "bigb/")))
    downs = sum(1 for p in expected.versions if p.startswith("downa/"))
    env_a = cli_env(world, base / "a", TRAINSYNC_CONCURRENCY="2")
    env_b = cli_env(other, base / "b", TRAINSYNC_CONCURRENCY="2")
    run = ConcurrencyRun()
    # A's PUTs wait until B has asked S3 about the lease: on a loaded machine B's start-up
    # could otherwise outlast all of A's sync, and B would find no lease to refuse or await.
    b_looked = threading.Event()

    def a_put(request: Request) -> bool:
        if request.method != "PUT":
            return False
        if LEASE_SUFFIX not in request.target:
            b_looked.wait(120)
        return True

    def b_lease(request: Request) -> bool:
        if LEASE_SUFFIX in request.target:
            b_looked.set()
        return False

    with (
        FaultProxy(upstream_port, {"stall": 1.0}, stall_seconds=0.05, applies=a_put) as proxy,
        FaultProxy(upstream_port, {"stall": 1.0}, applies=b_lease) as proxy_b,
    ):
        first = start_cli(world, env_a, endpoint=proxy.url)
        if not _wait_for_lease(first, proxy):
            run.problems.append("root A never took its lease")
        extra = ["--wait"] if wait else []
        second = start_cli(other, env_b, *extra, endpoint=proxy_b.url)
        (out_a, err_a), (out_b, err_b) = (p.communicate(timeout=300) for p in (first, second))
    report_a, report_b = _parsed(out_a), _parsed(out_b)
    if first.returncode != 0:
        run.problems.append(f"root A exited {first.returncode}: {err_a.strip()[-300:]}")
    if wait:
        if second.returncode != 0:
            run.problems.append(f"root B exited {second.returncode}: {err_b.strip()[-300:]}")
        # B ran after A: it uploads only its own files and finds all of A's in S3.
        if report_b.get("uploaded") != ups_b or report_b.get("downloaded") != ups_a + downs:
            run.problems.append(f"root B overlapped root A: {report_b} (A: {report_a})")
    else:
        message = report_b.get("error", "")
        run.refusals.append(message)
        if second.returncode != 1 or "lease s3://" not in message or "Traceback" in err_b:
            run.problems.append(f"root B did not refuse clearly ({second.returncode}): {report_b}")
    if report_a.get("uploaded") != ups_a or report_a.get("downloaded") != downs:
        run.problems.append(f"root A did not do exactly its own work: {report_a}")
    # Each root syncs once more (in-process): both converge on the union.
    for root in (other, world, other):
        report, _ = engine_sync(root, root.url)
        run.problems += [f"{root.root.name}: {e}" for e in report.errors]
    final = expected.final()
    run.problems += [f"root A: {p}" for p in end_state_problems(world, final)]
    run.problems += [f"root B: {p}" for p in end_state_problems(other, final)]
    run.converged = not run.problems
    return run


def _wait_for_lease(proc: subprocess.Popen[str], proxy: FaultProxy) -> bool:
    """Poll the proxy's log (another process: no event to wait on) for the lease's PUT."""
    stop = threading.Event()
    while proc.poll() is None:
        if any(m == "PUT" and LEASE_SUFFIX in t for m, t in list(proxy.log)):
            return True
        stop.wait(0.002)
    return False


def _parsed(out: str) -> dict[str, object]:
    try:
        value = json.loads(out)
    except ValueError:
        return {"unparsed": out}
    return value if isinstance(value, dict) else {"unparsed": out}
