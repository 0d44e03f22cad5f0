"""Resume points: kill -9 of the real CLI in the middle of a multipart upload or a big
download, then a rerun that must continue where the killed run stopped (the report's
bytes_resumed > 0 wherever something was kept), and variants where the local file or the
object changes between the kill and the rerun: those must start again, and no object may
ever be completed from parts of the old file mixed with the new."""

from __future__ import annotations

import json
import os
import random
import signal
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.faults import engine_sync
from tests.reliability.holds import Hold, kept, range_start
from tests.reliability.rig import (
    ACTOR,
    PART,
    Expected,
    add_work,
    blob,
    cli_env,
    end_state_problems,
    interrupted_state_problems,
    leaked_secrets,
    md5,
    s3_md5s,
    start_cli,
    tree_outside,
)

# What happens between the kill and the rerun.
UPLOAD_POINTS = (
    "unchanged",
    "appended",
    "rewritten in place",
    "rewritten in place, same mtime",
    "replaced, same size and mtime",
)
DOWNLOAD_POINTS = ("unchanged", "object replaced")
POINTS = tuple(("upload", p) for p in UPLOAD_POINTS) + tuple(
    ("download", p) for p in DOWNLOAD_POINTS
)


@dataclass
class ResumeRun:
    point: str
    hit: bool = False  # the kill landed mid-transfer with something kept to resume from
    resumable: bool = False  # the rerun should have resumed (unchanged, something kept)
    resumed: int = 0  # the rerun's bytes_resumed
    mixed: int = 0  # objects whose bytes are no version the file ever had
    problems: list[str] = field(default_factory=list)
    converged: bool = False
    leaks: list[str] = field(default_factory=list)
    outside: int = 0


def label(point: tuple[str, str]) -> str:
    kind, change = point
    return f"resume after kill -9 mid {kind}: {change}"


def resume_once(
    world: World,
    base: Path,
    upstream_port: int,
    expected: Expected,
    rng: random.Random,
    point: tuple[str, str],
    tag: str,
) -> ResumeRun:
    kind, change = point
    run = ResumeRun(label(point))
    add_work(world, expected, rng, small_up=4, small_down=4, tag=tag)
    path = f"ckpt{tag}/model.bin"
    size = rng.randint(3, 4) * PART + rng.randint(1, PART - 1)
    data = blob(rng, size)
    if kind == "upload":
        world.put_local(ACTOR, path, data)
        key = world.key(ACTOR, path)
        # Hold a part past the first, so some parts are in S3 when the kill lands.
        nth = rng.randint(2, size // PART + 1)
        gate = Hold(
            lambda r: (
                r.method == "PUT"
                and f"partNumber={nth}&" in r.target + "&"
                and r.target.partition("?")[0].endswith(key)
            ),
            fault=True,
        )
    else:
        world.put_s3(ACTOR, path, data, multipart=True, metadata={"md5": md5(data)})
        last = (size - 1) // PART * PART
        gate = Hold(lambda r: r.method == "GET" and range_start(r) == last, fault=True)
    expected.set(path, data)
    before = tree_outside(base, [world.actor_dir(ACTOR)])
    env = cli_env(world, base, TRAINSYNC_CONCURRENCY="4")
    with FaultProxy(upstream_port, {"reset": 1.0}, applies=gate) as proxy:
        proc = start_cli(world, env, endpoint=proxy.url)
        try:
            landed = gate.reached.wait(120) and kept(world, kind, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            gate.release.set()
            out, err = proc.communicate(timeout=60)
    run.hit = landed and proc.returncode == -signal.SIGKILL
    run.problems = [f"after the kill: {p}" for p in interrupted_state_problems(world, expected)]
    new = _change(world, expected, rng, path, change)
    run.resumable = run.hit and change == "unchanged"
    again, _ = engine_sync(world, world.url)
    run.resumed = again.bytes_resumed
    if again.errors or again.conflicts or again.cancelled:
        run.problems.append(f"the rerun reported {again.errors} {again.conflicts}")
    if run.resumable and run.resumed <= 0:
        run.problems.append(f"the rerun did not resume {path} (bytes_resumed 0)")
    # A changed stamp restarts the upload; with the stamp kept, parts whose MD5 still
    # matches may be kept (the final MD5 check below catches any stale one).
    if change not in ("unchanged", "rewritten in place, same mtime") and run.resumed:
        run.problems.append(f"the rerun resumed {run.resumed} bytes of a changed {path}")
    final = new if new is not None else data
    in_s3 = s3_md5s(world).get(path)
    local = world.local_path(ACTOR, path)
    if in_s3 != md5(final) or not local.exists() or md5(local.read_bytes()) != md5(final):
        run.problems.append(f"corrupt: {path} in S3 or on disk is not the MD5 of the final file")
    if in_s3 is not None and in_s3 not in expected.allowed_md5s(path):
        run.mixed += 1
        run.problems.append(f"corrupt: {path} in S3 mixes versions of the file")
    run.problems += end_state_problems(world, expected.final())
    after = tree_outside(base, [world.actor_dir(ACTOR)])
    run.outside = sum(before.get(p) != after.get(p) for p in before.keys() | after.keys())
    run.converged = not run.problems and not run.outside
    run.leaks = leaked_secrets(
        {"stdout": out, "stderr": err, "report": json.dumps(again.to_json())}
    )
    return run


def _change(
    world: World, expected: Expected, rng: random.Random, path: str, change: str
) -> bytes | None:
    """Change the file (or object) between the kill and the rerun; returns the new bytes."""
    target = world.local_path(ACTOR, path)
    if change == "unchanged":
        return None
    if change == "object replaced":
        old = world.read_s3(ACTOR, path)
        new = blob(rng, len(old))  # same size: only the ETag tells them apart
        world.put_s3(ACTOR, path, new, multipart=True, metadata={"md5": md5(new)})
    elif change == "appended":
        new = target.read_bytes() + blob(rng, rng.randint(1, PART))
        with open(target, "ab") as handle:
            handle.write(new[target.stat().st_size :])
    elif change.startswith("rewritten in place"):
        # The first part, already in S3, gets new bytes; the others stay as they were.
        st = target.stat()
        new = bytearray(target.read_bytes())
        new[: PART // 2] = blob(rng, PART // 2)
        with open(target, "r+b") as handle:
            handle.write(new[: PART // 2])
        new = bytes(new)
        if change.endswith("same mtime"):
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        # A new file renamed over the old one with its size and mtime (a writer that keeps
        # stamps, as rsync -t does): only the inode says it changed.
        st = target.stat()
        new = bytearray(target.read_bytes())
        new[: PART // 2] = blob(rng, PART // 2)
        new = bytes(new)
        fresh = target.with_name(target.name + ".new")
        fresh.write_bytes(new)
        os.utime(fresh, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(fresh, target)
    expected.set(path, new)
    return new
