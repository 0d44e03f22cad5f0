"""Shared by the CI tests and the soak: worlds, datasets, end-state checks, secret scans."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import World, s3_client
from trainsync_tui.engine.errors import ManifestError
from trainsync_tui.engine.local.manifest import load_manifest
from trainsync_tui.engine.paths import TEMP_PREFIX

ACTOR = "0042_european_30_male"
MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part S3 allows: multipart objects stay small in tests
REPO = Path(__file__).resolve().parents[2]
# Distinctive values, so a leak is found by a plain substring search.
SECRET_KEY = "rel1ab1l1tySECRETkey/" + "x" * 19
SESSION_TOKEN = "rel1ab1l1tySESSIONtoken" + "y" * 40
SECRET_MARKERS = (
    re.escape(SECRET_KEY),
    re.escape(SESSION_TOKEN),
    r"Signature=[0-9a-fA-F]{16}",  # a SigV4 signature (header or presigned URL)
    r"X-Amz-Credential=[^*&\s]",  # a presigned URL's credential scope
)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def blob(rng: random.Random, size: int) -> bytes:
    """Incompressible-enough bytes, cheap to make: a random 4 KiB block repeated with a tag."""
    block = rng.randbytes(4096)
    tag = rng.randbytes(16)
    return (block * (size // 4096 + 1))[: size - 16] + tag if size >= 16 else rng.randbytes(size)


def new_world(server_url: str, base: Path) -> World:
    """A fresh root folder and bucket (what the `world` fixture makes, usable outside pytest)."""
    bucket = f"rel-{uuid.uuid4().hex[:12]}"
    client = s3_client(server_url)
    client.create_bucket(Bucket=bucket)
    root = base / "root"
    (root / "data" / "actors").mkdir(parents=True)
    return World(root, bucket, server_url, client)


@dataclass
class Expected:
    """Every version each path has had; the last one is where a sync must converge."""

    versions: dict[str, list[bytes]] = field(default_factory=dict)

    def set(self, path: str, data: bytes) -> None:
        self.versions.setdefault(path, []).append(data)

    def final(self) -> dict[str, bytes]:
        return {p: v[-1] for p, v in self.versions.items()}

    def allowed_md5s(self, path: str) -> set[str]:
        return {md5(v) for v in self.versions.get(path, [])}


Point = TypeVar("Point")
Run = TypeVar("Run")
# A scenario's one run: (world, base, upstream port, expected, rng, point, tag) → its result.
Once = Callable[[World, Path, int, Expected, random.Random, Point, str], Run]


def add_work(
    world: World,
    expected: Expected,
    rng: random.Random,
    *,
    small_up: int,
    small_down: int,
    big_up: int = 0,
    big_down: int = 0,
    changes: int = 0,
    tag: str = "",
    actor: str = ACTOR,
) -> None:
    """New files on each side (some multipart) and some changed ones: a sync's worth of work."""
    for i in range(small_up):
        path = f"up{tag}/{i % 7}/u{i:04d}.bin"
        data = blob(rng, rng.randint(0, 40_000))
        world.put_local(actor, path, data)
        expected.set(path, data)
    for i in range(small_down):
        path = f"down{tag}/{i % 5}/d{i:04d}.bin"
        data = blob(rng, rng.randint(1, 40_000))
        world.put_s3(actor, path, data)
        expected.set(path, data)
    for i in range(big_up):
        path = f"big{tag}/up{i}.bin"
        data = blob(rng, rng.randint(PART + 1, 2 * PART + MiB))
        world.put_local(actor, path, data)
        expected.set(path, data)
    for i in range(big_down):
        path = f"big{tag}/down{i}.bin"
        data = blob(rng, rng.randint(PART + 1, 2 * PART + MiB))
        world.put_s3(actor, path, data, multipart=True, metadata={"md5": md5(data)})
        expected.set(path, data)
    # Changes on one side only of paths that are in sync: SPEC §3 rows "local changed" and
    # "S3 changed". Only paths whose three sources agree, so the plan has no conflict.
    synced = [p for p in sorted(expected.versions) if _in_sync(world, expected, p, actor)]
    for path in rng.sample(synced, min(changes, len(synced))):
        data = blob(rng, rng.randint(1, 30_000))
        if rng.random() < 0.5:
            world.put_local(actor, path, data)
        else:
            world.put_s3(actor, path, data)
        expected.set(path, data)


def _in_sync(world: World, expected: Expected, path: str, actor: str) -> bool:
    recorded = world.manifest_md5s(actor).get(path)
    return recorded == md5(expected.final()[path]) and len(expected.final()[path]) < PART


def end_state_problems(world: World, expected: dict[str, bytes], actor: str = ACTOR) -> list[str]:
    """Where local files, S3 objects or the manifest differ from `expected` (empty = converged)."""
    problems: list[str] = []
    top = world.actor_dir(actor) / "training_data"
    local = (
        {p.relative_to(top).as_posix(): p for p in top.rglob("*") if p.is_file()}
        if top.exists()
        else {}
    )
    for path, data in expected.items():
        if path not in local:
            problems.append(f"lost locally: {path}")
        elif md5(local[path].read_bytes()) != md5(data):
            problems.append(f"corrupt locally: {path}")
    problems += [f"unexpected local file: {p}" for p in sorted(set(local) - set(expected))]
    remote = s3_md5s(world, actor)
    for path, data in expected.items():
        if path not in remote:
            problems.append(f"lost in S3: {path}")
        elif remote[path] != md5(data):
            problems.append(f"corrupt in S3: {path}")
    problems += [f"unexpected S3 object: {p}" for p in sorted(set(remote) - set(expected))]
    recorded = world.manifest_md5s(actor)
    for path, data in expected.items():
        if recorded.get(path) != md5(data):
            problems.append(f"manifest wrong for {path}: {recorded.get(path)}")
    problems += [f"manifest lists unknown {p}" for p in sorted(set(recorded) - set(expected))]
    uploads = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
    problems += [f"unfinished multipart upload: {u['Key']}" for u in uploads]
    # What a killed run left beside training_data/ is cleaned by the next one.
    actor_dir = world.actor_dir(actor)
    leftovers = list(actor_dir.glob(".manifest.json.*")) + list(
        (actor_dir / ".trainsync" / "tmp").glob(f"{TEMP_PREFIX}*")
    )
    problems += [f"temp file left: {p.relative_to(actor_dir)}" for p in leftovers]
    return problems


def interrupted_state_problems(world: World, expected: Expected, actor: str = ACTOR) -> list[str]:
    """After a kill or cancel: nothing partial in training_data/, a valid manifest whose
    entries are all versions the path really had, no byte that was never written by us."""
    problems: list[str] = []
    top = world.actor_dir(actor) / "training_data"
    for path in top.rglob("*") if top.exists() else []:
        if not path.is_file():
            continue
        rel = path.relative_to(top).as_posix()
        if path.name.startswith(TEMP_PREFIX):
            problems.append(f"temp file left in training_data/: {rel}")
        elif md5(path.read_bytes()) not in expected.allowed_md5s(rel):
            problems.append(f"partial or foreign file in training_data/: {rel}")
    manifest_path = world.actor_dir(actor) / "manifest.json"
    try:
        manifest = load_manifest(manifest_path, actor.split("_")[0], actor)
    except ManifestError as exc:
        return [*problems, f"manifest invalid: {exc}"]
    for path, entry in manifest.entries.items():
        if entry.md5 not in expected.allowed_md5s(path):
            problems.append(f"manifest records an MD5 {path} never had")
    for path, digest in s3_md5s(world, actor).items():
        if digest not in expected.allowed_md5s(path):
            problems.append(f"partial or foreign object in S3: {path}")
    return problems


def s3_md5s(world: World, actor: str = ACTOR) -> dict[str, str]:
    """MD5 of every object of the actor: its ETag when that is one, else its bytes hashed."""
    prefix = f"actors/{actor}/training_data/"
    found: dict[str, str] = {}
    for page in world.s3.get_paginator("list_objects_v2").paginate(
        Bucket=world.bucket, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            path, etag = item["Key"][len(prefix) :], item["ETag"].strip('"')
            found[path] = etag if "-" not in etag else md5(world.read_s3(actor, path))
    return found


def tree_outside(base: Path, actor_dirs: list[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under `base` outside the actors' folders and the state dirs.

    Used before/after a sync: whatever changes here was written outside the actor's folders.
    """
    skip = {str(p) for p in actor_dirs}
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = [
            d
            for d in dirs
            if os.path.join(folder, d) not in skip and d not in (".trainsync", "cache")
        ]
        for name in files:
            full = os.path.join(folder, name)
            st = os.lstat(full)
            found[os.path.relpath(full, base)] = (st.st_size, st.st_mtime_ns)
    return found


def leaked_secrets(texts: dict[str, str]) -> list[str]:
    """Which of `texts` (name → content) contain a credential or a URL signature."""
    return [
        f"{name} contains {marker!r}"
        for name, text in texts.items()
        for marker in SECRET_MARKERS
        if re.search(marker, text)
    ]


def history_text(world: World) -> str:
    path = world.root / ".trainsync" / "history.jsonl"
    return path.read_text() if path.exists() else ""


def cli_env(world: World, base: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m trainsync_tui` subprocess reaching `world`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINSYNC_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_SESSION_TOKEN=SESSION_TOKEN,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        TRAINSYNC_CONFIG=str(base / "no-user-config.toml"),
        TRAINSYNC_CACHE_DIR=str(base / "cache"),
        TRAINSYNC_MULTIPART_THRESHOLD=str(PART),
        TRAINSYNC_MULTIPART_CHUNKSIZE=str(PART),
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


def cli_command(world: World, *args: str, endpoint: str | None = None) -> list[str]:
    flags = ["--root", str(world.root), "--bucket", world.bucket]
    return [
        sys.executable,
        "-m",
        "trainsync_tui",
        "sync",
        ACTOR,
        *args,
        *flags,
        "--endpoint-url",
        endpoint or world.url,
    ]


def start_cli(
    world: World, env: dict[str, str], *args: str, endpoint: str | None = None
) -> subprocess.Popen[str]:
    """`trainsync sync ACTOR --json` (and `args`) as a process of its own, its output piped."""
    return subprocess.Popen(
        cli_command(world, "--json", *args, endpoint=endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_cli(
    world: World, env: dict[str, str], *args: str, endpoint: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`trainsync sync ACTOR --json` (and `args`) run to its end, its output captured."""
    return subprocess.run(
        cli_command(world, "--json", *args, endpoint=endpoint),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def poll_until(
    condition: Callable[[], bool],
    proc: subprocess.Popen[str],
    timeout: float,
    every: float = 0.005,
) -> bool:
    """Poll a condition on another process (no event crosses a process boundary); False
    once that process has exited or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def one_json(out: str) -> dict[str, Any]:
    value, end = json.JSONDecoder().raw_decode(out.strip())
    assert out.strip()[end:] == "", f"more than one JSON value on stdout: {out!r}"
    return value


def run_points(
    once: Once[Point, Run],
    points: Sequence[Point],
    world: World,
    base: Path,
    upstream_port: int,
    rng: random.Random,
    tag: str,
    *,
    start: int = 0,
    count: int | None = None,
) -> Iterator[tuple[Point, Run]]:
    """`once` at each point in turn (from `start`, rotating; every point once by default) on
    one world, whose expected state carries over from run to run as the files pile up."""
    expected = Expected()
    for i in range(start, start + (len(points) if count is None else count)):
        point = points[i % len(points)]
        yield point, once(world, base, upstream_port, expected, rng, point, f"{tag}{i}")
