"""The soak's cases for issue 22's guards, through the real CLI with kill -9 and faults:

- a silent lease key (only the lease's renewals held) while a second root waits to take
  over after expiry: the first must stop writing before the second starts;
- two roots with one identity (a copy of the root, state folder included, run at the same
  path in a mount namespace): the copy must not take the live lease;
- rewrites that put the mtime back between syncs: seen and uploaded, never lost;
- a folder swapped for a symbolic link during downloads: nothing written outside;
- an object nothing can verify (nanio hides its 9 MiB part size), killed mid-download and
  its kept bytes tampered: the rerun must not resume from them.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.engine.nanio_world import put_foreign
from tests.reliability.faultproxy import FaultProxy, Request
from tests.reliability.holds import Hold, kept, range_start
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    MiB,
    add_work,
    blob,
    cli_command,
    cli_env,
    end_state_problems,
    interrupted_state_problems,
    leaked_secrets,
    md5,
    run_cli,
    start_cli,
    tree_outside,
)
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

CASES = ("silent lease key", "cloned root", "mtime restored", "symlink swap", "unverifiable")
LEASE_TTL = 3.0  # the shortest the settings allow: a lapse shows within seconds
BUSY = "is already being synced by"
_SAME_PATH = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'


@dataclass
class GuardRun:
    case: str
    variant: str = ""
    hit: bool = False  # the fault or kill landed where the case aims it
    problems: list[str] = field(default_factory=list)
    converged: bool = False
    outside: int = 0
    leaks: list[str] = field(default_factory=list)
    skipped: str = ""

    def finish(self, base: Path, before: dict[str, tuple[int, int]], keep: list[Path]) -> None:
        after = tree_outside(base, keep)
        self.outside = sum(before.get(p) != after.get(p) for p in before.keys() | after.keys())
        self.problems += [
            f"written outside the actor: {p}"
            for p in sorted(before.keys() | after.keys())
            if before.get(p) != after.get(p)
        ][:3]
        self.converged = not self.problems and not self.outside


LABELS = {
    "silent lease key": "lease renewals unanswered, a second root takes over",
    "cloned root": "a cloned root at the same path, one identity",
    "mtime restored": "rewrites with the mtime put back",
    "symlink swap": "a folder swapped for a symlink mid-download",
    "unverifiable": "unverifiable object killed mid-download, kept bytes tampered",
}


def label(case: str) -> str:
    return f"guard: {LABELS[case]}"


def _env(world: World, base: Path, extra: dict[str, str]) -> dict[str, str]:
    env = cli_env(world, base)
    env.update(extra)  # may replace the credentials (nanio's)
    return env


def _cli(
    world: World, base: Path, *args: str, endpoint: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(world, _env(world, base, extra), *args, endpoint=endpoint)


def _converge(run: GuardRun, worlds: list[World], base: Path, expected: Expected) -> None:
    """Plain CLI syncs, each root once and the first again, must reach `expected` on all."""
    for world in [*worlds, worlds[0]]:
        done = _cli(world, base)
        run.leaks += leaked_secrets({"stdout": done.stdout, "stderr": done.stderr})
        if done.returncode != 0:
            run.problems.append(f"a plain sync of {world.root.name} failed: {done.stderr[-300:]}")
    for world in worlds:
        run.problems += [
            f"{world.root.name}: {p}" for p in end_state_problems(world, expected.final())
        ]


def _data_request(request: Request) -> bool:
    target = request.target.partition("?")[0]
    return "/training_data/" in target and not target.endswith(LEASE_SUFFIX)


def _copy_if_there(source: str, target: str) -> None:
    """Copy one file of a live root; one that the running sync renamed or removed while the
    tree was walked (a finished temp file) is not part of the clone, as on a disk snapshot."""
    with contextlib.suppress(FileNotFoundError):
        shutil.copy2(source, target)


def _popen(
    world: World, base: Path, endpoint: str, *args: str, **extra: str
) -> subprocess.Popen[str]:
    return start_cli(world, _env(world, base, extra), *args, endpoint=endpoint)


# -- (a) a silent lease key --------------------------------------------------------------


def silent_lease_key(world: World, base: Path, port: int, rng: random.Random, tag: str) -> GuardRun:
    """Root A's lease renewals go unanswered (nothing else does); root B, started with
    --wait, takes the lease over once it expires on S3's clock. A must stop writing (by its
    own clock, or kill -9) before B's first write, and both roots then converge."""
    run = GuardRun("silent lease key", rng.choice(("fenced", "kill -9 once held")))
    other = World(base / f"root-b{tag}", world.bucket, world.url, world.s3)
    (other.root / "data" / "actors").mkdir(parents=True)
    expected = Expected()
    for i in range(16):  # slow enough at the bandwidth limit to outlive the lease
        data = blob(rng, 96 * 1024 + rng.randint(0, 8192))
        world.put_local(ACTOR, f"a{tag}/f{i:02d}.bin", data)
        expected.set(f"a{tag}/f{i:02d}.bin", data)
    add_work(other, expected, rng, small_up=4, small_down=2, tag=f"b{tag}")
    before = tree_outside(base, [world.actor_dir(ACTOR), other.actor_dir(ACTOR)])
    writes: dict[str, list[float]] = {"a": [], "b": []}
    taken: list[float] = []
    held = threading.Event()

    def a_requests(request: Request) -> bool:
        now = time.monotonic()
        lease = LEASE_SUFFIX in request.target
        if request.method in ("PUT", "POST", "DELETE") and not lease:
            writes["a"].append(now)
        if request.method == "PUT" and lease:
            if request.header("if-match") is None:
                taken.append(now)
                return False
            held.set()
            return True  # every renewal held: the lease key alone is silent
        return False

    def b_requests(request: Request) -> bool:
        if request.method in ("PUT", "POST", "DELETE") and LEASE_SUFFIX not in request.target:
            writes["b"].append(time.monotonic())
        return False

    ttl = {"TRAINSYNC_LEASE_TTL": f"{LEASE_TTL:g}"}
    with (
        FaultProxy(port, {"stall": 1.0}, stall_seconds=60, applies=a_requests) as pa,
        FaultProxy(port, {"stall": 1.0}, applies=b_requests) as pb,
    ):
        a = _popen(world, base, pa.url, TRAINSYNC_BWLIMIT="256K", **ttl)
        b: subprocess.Popen[str] | None = None
        try:
            run.hit = held.wait(60)
            b = _popen(other, base, pb.url, "--wait", **ttl)
            if run.variant.startswith("kill"):
                a.send_signal(signal.SIGKILL)
            a_out, a_err = a.communicate(timeout=120)
            b_out, b_err = b.communicate(timeout=120)
        finally:
            for proc in (a, b):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.communicate()
    run.leaks += leaked_secrets({"a": a_out + a_err, "b": b_out + b_err})
    if not run.hit:
        run.problems.append("no renewal of A's lease was ever held")
    if run.variant == "fenced" and "could not be renewed in time" not in a_out + a_err:
        run.problems.append(
            f"A did not stop for its lapsed lease ({a.returncode}): {(a_out + a_err)[-300:]}"
        )
    if b.returncode != 0:
        run.problems.append(f"B did not sync after the lease expired: {b_err[-300:]}")
    if writes["a"] and taken and max(writes["a"]) >= taken[-1] + LEASE_TTL:
        run.problems.append("A wrote after its lease could have been taken over")
    if writes["a"] and writes["b"] and max(writes["a"]) >= min(writes["b"]):
        run.problems.append("corrupt: A and B were both writing")
    run.problems += [f"after the lapse: {p}" for p in interrupted_state_problems(world, expected)]
    _converge(run, [world, other], base, expected)
    run.finish(base, before, [world.actor_dir(ACTOR), other.actor_dir(ACTOR)])
    return run


# -- (b) two roots with one identity -----------------------------------------------------


def cloned_root(world: World, base: Path, port: int, rng: random.Random, tag: str) -> GuardRun:
    """A copy of root A (state folder, lock file and all) synced at A's very path while A
    holds the lease: it must refuse and write nothing. Then A ends (or is killed -9 and
    rerun: only A's own flock takes its lease over at once) and the copy syncs after it."""
    run = GuardRun("cloned root", rng.choice(("A finishes", "A killed -9")))
    if shutil.which("unshare") is None:
        run.skipped = "unshare (util-linux) is not installed"
        return run
    expected = Expected()
    add_work(world, expected, rng, small_up=6, small_down=4, tag=f"a{tag}")
    done = _cli(world, base)  # A has synced before, so the copy has a manifest and state
    if done.returncode != 0:
        run.problems.append(f"the first sync failed: {done.stderr[-300:]}")
    add_work(world, expected, rng, small_up=6, small_down=2, changes=2, tag=f"c{tag}")
    clone_base = base / f"clone{tag}"
    clone = World(clone_base / "root", world.bucket, world.url, world.s3)
    before = tree_outside(base, [world.actor_dir(ACTOR), clone.actor_dir(ACTOR)])
    hold = Hold(lambda r: _data_request(r) and r.method in ("PUT", "GET"), fault=False)
    with FaultProxy(port, {"stall": 1.0}, applies=hold) as proxy:
        a = _popen(world, base, proxy.url)
        try:
            run.hit = hold.reached.wait(60)
            clone_base.mkdir()
            shutil.copytree(world.root, clone.root, symlinks=True, copy_function=_copy_if_there)
            mine = f"clone{tag}/c.bin"
            data = blob(rng, rng.randint(1, 30_000))
            clone.put_local(ACTOR, mine, data)
            expected.set(mine, data)
            copy = _in_namespace(clone, world, base, clone_base)
            if copy.returncode != 0 and "unshare" in copy.stderr.split(":", 1)[0]:
                run.skipped = f"no mount namespace here: {copy.stderr.strip()}"
            elif copy.returncode != 1 or BUSY not in copy.stderr:
                run.problems.append(
                    f"corrupt: the copy did not wait for A's live lease ({copy.returncode}): "
                    f"{copy.stderr[-300:]}"
                )
            if world.s3.list_objects_v2(Bucket=world.bucket, Prefix=world.key(ACTOR, mine)).get(
                "KeyCount"
            ):
                run.problems.append("corrupt: the copy wrote while A held the lease")
            if run.variant == "A killed -9":
                a.send_signal(signal.SIGKILL)
        finally:
            hold.release.set()
            out, err = a.communicate(timeout=120)
    run.leaks += leaked_secrets({"stdout": out, "stderr": err})
    if run.skipped:
        return run
    if run.variant == "A finishes" and a.returncode != 0:
        run.problems.append(f"A failed: {err[-300:]}")
    run.problems += [f"after A: {p}" for p in interrupted_state_problems(world, expected)]
    # A again (its own flock: a killed run's lease is taken over at once), then the copy.
    again = _cli(world, base)
    if again.returncode != 0:
        run.problems.append(f"A's rerun did not take its own lease: {again.stderr[-300:]}")
    copy = _in_namespace(clone, world, base, clone_base)
    if copy.returncode != 0:
        run.problems.append(f"the copy did not sync after A: {copy.stderr[-300:]}")
    _converge(run, [world], base, expected)
    # The copy once more, then its files where it wrote them (its folder, seen from outside).
    copy = _in_namespace(clone, world, base, clone_base)
    if copy.returncode != 0:
        run.problems.append(f"the copy's last sync failed: {copy.stderr[-300:]}")
    run.problems += [f"copy: {p}" for p in end_state_problems(clone, expected.final())]
    run.finish(base, before, [world.actor_dir(ACTOR), clone.actor_dir(ACTOR)])
    return run


def _in_namespace(
    clone: World, world: World, base: Path, clone_base: Path
) -> subprocess.CompletedProcess[str]:
    """The copy's sync, run with its root mounted over A's path (its own cache folder, as on
    a cloned machine)."""
    env = _env(world, base, {"TRAINSYNC_CACHE_DIR": str(clone_base / "cache")})
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _SAME_PATH, "sh",
         str(clone.root), str(world.root), *cli_command(world, "--json")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


# -- (c) rewrites that put the mtime back -------------------------------------------------


def mtime_restored(world: World, base: Path, port: int, rng: random.Random, tag: str) -> GuardRun:
    """Synced files rewritten in place with their size and mtime put back (only ctime tells),
    with an old stamp or one in the tick of the last hash; the next sync runs under faults or
    is killed -9, then a plain one: every rewrite must reach S3 and the manifest."""
    run = GuardRun(
        "mtime restored",
        f"{rng.choice(('old stamp', 'fresh stamp'))}, {rng.choice(('faults', 'kill -9'))}",
    )
    expected = Expected()
    add_work(world, expected, rng, small_up=10, small_down=4, tag=tag)
    if run.variant.startswith("old"):
        old = time.time_ns() - 3600 * 10**9
        for path in expected.versions:
            local = world.local_path(ACTOR, path)
            if local.exists():
                os.utime(local, ns=(old, old))
    before = tree_outside(base, [world.actor_dir(ACTOR)])
    done = _cli(world, base)
    if done.returncode != 0:
        run.problems.append(f"the first sync failed: {done.stderr[-300:]}")
    rewritten = rng.sample(sorted(expected.versions), 5)
    for path in rewritten:
        local = world.local_path(ACTOR, path)
        st = local.stat()
        new = blob(rng, st.st_size) if st.st_size else b""
        if new == expected.final()[path]:
            continue
        with open(local, "r+b") as handle:
            handle.write(new)
        os.utime(local, ns=(st.st_atime_ns, st.st_mtime_ns))
        expected.set(path, new)
    if run.variant.endswith("faults"):
        rates = {"error500": 0.1, "reset": 0.05, "cut": 0.05}
        with FaultProxy(port, rates, seed=rng.randrange(1 << 30)) as proxy:
            done = _cli(world, base, endpoint=proxy.url)
            run.hit = proxy.injected > 0
    else:
        first_put = threading.Event()

        def puts(request: Request) -> bool:
            if request.method == "PUT" and _data_request(request):
                first_put.set()
            return False

        with FaultProxy(port, {"stall": 1.0}, applies=puts) as proxy:
            proc = _popen(world, base, proxy.url)
            run.hit = first_put.wait(60)
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=60)
            done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    run.leaks += leaked_secrets({"stdout": done.stdout, "stderr": done.stderr})
    run.problems += [f"after the run: {p}" for p in interrupted_state_problems(world, expected)]
    _converge(run, [world], base, expected)
    final = expected.final()
    run.problems += [
        f"lost in S3: the rewrite of {p} was never seen"
        for p in rewritten
        if world.manifest_md5s(ACTOR).get(p) != md5(final[p])
    ]
    run.finish(base, before, [world.actor_dir(ACTOR)])
    return run


# -- (d) symlink swaps during downloads -------------------------------------------------


def symlink_swap(world: World, base: Path, port: int, rng: random.Random, tag: str) -> GuardRun:
    """When S3 is asked for the first object of one folder, that folder is moved away and a
    link put in its place (to a folder outside the root, or up to the actors' folder); the
    run may then be killed -9. Nothing may be written outside the actor's folder."""
    run = GuardRun(
        "symlink swap",
        f"{rng.choice(('to outside', 'up the tree'))}, {rng.choice(('run ends', 'kill -9'))}",
    )
    expected = Expected()
    add_work(world, expected, rng, small_up=2, small_down=15, tag=tag)
    outside = base / f"outside{tag}"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"not trainsync's")
    target = outside if run.variant.startswith("to outside") else Path("../../../..")
    folder = world.local_path(ACTOR, f"down{tag}/{rng.randrange(5)}")
    swapped = threading.Event()

    def swap(request: Request) -> bool:
        key = f"/training_data/down{tag}/{folder.name}/"
        if request.method == "GET" and key in request.target and not swapped.is_set():
            if folder.exists():
                folder.rename(folder.with_name(folder.name + ".moved"))
            folder.symlink_to(target, target_is_directory=True)
            swapped.set()
        return False

    before = tree_outside(base, [world.actor_dir(ACTOR)])
    with FaultProxy(port, {"stall": 1.0}, applies=swap) as proxy:
        proc = _popen(world, base, proxy.url)
        run.hit = swapped.wait(60)
        if run.variant.endswith("kill -9"):
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    run.leaks += leaked_secrets({"stdout": out, "stderr": err})
    if "Traceback" in err:
        run.problems.append(f"a traceback: {err[-300:]}")
    if not run.variant.endswith("kill -9") and run.hit and proc.returncode == 0:
        run.problems.append("the run through the swapped folder exited 0")
    # The user puts the folder back; the next syncs must converge.
    if folder.is_symlink():
        folder.unlink()
    moved = folder.with_name(folder.name + ".moved")
    if moved.exists():
        moved.rename(folder)
    _converge(run, [world], base, expected)
    run.finish(base, before, [world.actor_dir(ACTOR)])
    return run


# -- (e) unverifiable objects, killed mid-download, tampered ---------------------------


def unverifiable(
    world: World, base: Path, port: int, rng: random.Random, tag: str, env: dict[str, str]
) -> GuardRun:
    """On nanio (no part size to check by), an object uploaded by another tool with 9 MiB
    parts and no MD5: kill -9 while its last range is held, bytes of the kept ranges
    changed on disk, then a rerun. It must fetch everything again: the file is exact."""
    run = GuardRun("unverifiable", rng.choice(("tampered", "truncated")))
    path = f"odd{tag}/weights.bin"
    size = 19 * MiB + rng.randint(1, MiB)
    data = blob(rng, size)
    put_foreign(world, ACTOR, path, data, 9 * MiB)
    expected = Expected()
    expected.set(path, data)
    before = tree_outside(base, [world.actor_dir(ACTOR)])
    last = (size - 1) // PART * PART
    hold = Hold(lambda r: r.method == "GET" and range_start(r) == last, fault=False)
    with FaultProxy(port, {"stall": 1.0}, applies=hold) as proxy:
        proc = _popen(world, base, proxy.url, TRAINSYNC_CONCURRENCY="4", **env)
        try:
            run.hit = hold.reached.wait(60) and kept(world, "download", proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            hold.release.set()
            out, err = proc.communicate(timeout=60)
    run.leaks += leaked_secrets({"stdout": out, "stderr": err})
    run.problems += [f"after the kill: {p}" for p in interrupted_state_problems(world, expected)]
    tampered = _tamper(world, rng, run.variant)
    if run.hit and not tampered:
        run.problems.append("nothing was kept to tamper with")
    again = _cli(world, base, **env)
    run.leaks += leaked_secrets({"stdout": again.stdout, "stderr": again.stderr})
    try:
        report = json.loads(again.stdout)
    except ValueError:
        report = {}
        run.problems.append(f"the rerun printed no report: {again.stderr[-300:]}")
    if again.returncode != 0:
        run.problems.append(f"the rerun failed: {again.stderr[-300:]}")
    if report.get("bytes_resumed"):
        run.problems.append(f"corrupt: the rerun resumed {report['bytes_resumed']} kept bytes")
    run.problems += end_state_problems(world, expected.final())
    run.finish(base, before, [world.actor_dir(ACTOR)])
    return run


def _tamper(world: World, rng: random.Random, how: str) -> bool:
    """Change bytes inside the kept ranges of the staged download (what a crash, a disk or
    a user may do between runs)."""
    partial = world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial"
    found = False
    for path in sorted(partial.iterdir()) if partial.is_dir() else []:
        if path.suffix == ".json" or not path.is_file() or path.stat().st_size < 8192:
            continue
        found = True
        with open(path, "r+b") as handle:
            if how == "truncated":
                handle.truncate(path.stat().st_size // 2)
            else:
                at = rng.randrange(0, path.stat().st_size - 4096)
                handle.seek(at)
                handle.write(rng.randbytes(4096))
    return found


def run_case(
    case: str,
    world: World,
    base: Path,
    port: int,
    rng: random.Random,
    tag: str,
    nanio_env: dict[str, str] | None = None,
) -> GuardRun:
    """One case of CASES in `world` (for "unverifiable", a world on nanio and its env)."""
    if case == "unverifiable":
        return unverifiable(world, base, port, rng, tag, nanio_env or {})
    cases = {
        "silent lease key": silent_lease_key,
        "cloned root": cloned_root,
        "mtime restored": mtime_restored,
        "symlink swap": symlink_swap,
    }
    return cases[case](world, base, port, rng, tag)
