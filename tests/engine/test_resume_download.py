"""A big download cut mid-way (kill -9 of the real CLI) keeps the ranges it wrote in the
staging folder; the next sync fetches only the rest (Range + If-Match) and verifies the
whole file before the rename. A changed object starts again from byte 0."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.rig import ACTOR, cli_command, cli_env, one_json
from tests.s3server import S3Server
from trainsync_tui.engine.events import Progress
from trainsync_tui.engine.facade import Engine
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.resumable_get import Partial

MiB = 1024 * 1024
SIZE = 40 * MiB
DATA = b"".join(hashlib.sha256(str(i).encode()).digest() * (MiB // 32) for i in range(40))


def partial_dir(world: World) -> Path:
    return world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial"


def fetched(proxy: FaultProxy, since: int, key: str) -> int:
    """Object bytes the GETs after `since` asked for (Range honoured by the server)."""
    total = 0
    for (method, target), headers in zip(proxy.log[since:], proxy.headers[since:], strict=True):
        if method != "GET" or not target.split("?")[0].endswith(key):
            continue
        match = re.match(r"bytes=(\d+)-(\d*)", headers.get("range", ""))
        if match is None:
            total += SIZE
        else:
            end = int(match.group(2)) if match.group(2) else SIZE - 1
            total += end - int(match.group(1)) + 1
    return total


def kill_at_share(command: list[str], env: dict[str, str], sidecars: Path, share: float) -> int:
    """Start the CLI and kill -9 it once `share` × SIZE kept bytes are recorded."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kept = 0
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            for sidecar in sidecars.glob("*.json"):
                try:
                    ranges = json.loads(sidecar.read_text())["ranges"]
                    kept = max(kept, sum(end - start for start, end in ranges))
                except (OSError, ValueError, KeyError):
                    continue
            if kept >= share * SIZE:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.02)  # readiness poll of a subprocess's progress, not synchronisation
    finally:
        if process.poll() is None and kept < share * SIZE:
            process.kill()
        process.communicate()
    assert kept >= share * SIZE, f"the download ended before {share:.0%} ({kept} bytes kept)"
    return kept


def test_a_download_killed_at_70_percent_fetches_only_the_rest(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    world.put_s3(ACTOR, "ckpt/model.bin", DATA, multipart=True)
    key = world.key(ACTOR, "ckpt/model.bin")
    env = cli_env(world, tmp_path)
    with FaultProxy(s3_server.port, {}) as proxy:
        # Slowed down so the kill lands mid-way; the rerun is at full speed.
        first = cli_command(world, "--json", "--bwlimit", "8M", endpoint=proxy.url)
        kept = kill_at_share(first, env, partial_dir(world), 0.7)
        assert not world.local_path(ACTOR, "ckpt/model.bin").exists()
        mark = len(proxy.log)
        done = subprocess.run(
            cli_command(world, "--json", endpoint=proxy.url),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    report = one_json(done.stdout)
    assert done.returncode == 0, done.stderr
    assert report["errors"] == [] and report["downloaded"] == 1
    assert report["bytes_resumed"] >= kept and report["bytes_downloaded"] == SIZE
    rerun = fetched(proxy, mark, key)
    assert rerun <= 0.35 * SIZE, f"the rerun fetched {rerun / SIZE:.0%} of the file"
    assert rerun == SIZE - report["bytes_resumed"]
    assert world.read_local(ACTOR, "ckpt/model.bin") == DATA
    assert world.manifest_md5s(ACTOR) == {"ckpt/model.bin": md5(DATA)}
    assert not partial_dir(world).exists()  # nothing kept once the file is in place


def test_a_kept_prefix_of_an_object_that_changed_is_not_used(world: World) -> None:
    """The sidecar names the ETag: a new object under the name is fetched from byte 0."""
    world.put_s3(ACTOR, "ckpt/model.bin", DATA, multipart=True)
    old = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, "ckpt/model.bin"))
    new = DATA[: SIZE // 2] + b"X" * (SIZE // 2)
    world.put_s3(ACTOR, "ckpt/model.bin", new, multipart=True)
    key = world.key(ACTOR, "ckpt/model.bin")
    folder = partial_dir(world)
    folder.mkdir(parents=True)
    stale = Partial.of(folder, key)
    stale.data.write_bytes(DATA[: 30 * MiB])
    listed = RemoteObject("ckpt/model.bin", key, SIZE, old["ETag"].strip('"'), 0, None)
    stale.keep(listed, [(0, 30 * MiB)])
    engine = Engine(world.settings)
    try:
        report = engine.sync(engine.actor(ACTOR))
    finally:
        engine.close()
    assert report.errors == [] and report.bytes_resumed == 0
    assert world.read_local(ACTOR, "ckpt/model.bin") == new
    assert not folder.exists()


def keep_for_the_object(world: World, data: bytes, ranges: list[tuple[int, int]]) -> None:
    """Put DATA in S3 and a partial file of `data` whose sidecar names that very object
    (key, ETag, size) and says `ranges` are held."""
    world.put_s3(ACTOR, "ckpt/model.bin", DATA, multipart=True)
    key = world.key(ACTOR, "ckpt/model.bin")
    etag = world.s3.head_object(Bucket=world.bucket, Key=key)["ETag"].strip('"')
    folder = partial_dir(world)
    folder.mkdir(parents=True)
    kept = Partial.of(folder, key)
    kept.data.write_bytes(data)
    kept.keep(RemoteObject("ckpt/model.bin", key, SIZE, etag, 0, None), ranges)


def test_a_kept_prefix_that_is_not_the_objects_bytes_is_fetched_again(world: World) -> None:
    """Same key, ETag and size in the sidecar, wrong bytes kept: the whole-file check fails,
    and the file is fetched again from byte 0 in the same run, not refused."""
    keep_for_the_object(world, b"\0" * (20 * MiB), [(0, 10 * MiB)])
    engine = Engine(world.settings)
    try:
        report = engine.sync(engine.actor(ACTOR))
    finally:
        engine.close()
    assert report.errors == [] and report.counts.downloaded == 1
    assert report.bytes_resumed == 0
    assert world.read_local(ACTOR, "ckpt/model.bin") == DATA


def test_progress_of_a_resumed_download_says_which_bytes_were_kept(world: World) -> None:
    """Kept bytes count as done at once, and the run's Progress says how many so far: the
    speed the front ends show is the bytes moved (issue 25 item 3)."""
    keep_for_the_object(world, DATA[: 30 * MiB], [(0, 30 * MiB)])
    events: list[Progress] = []
    engine = Engine(world.settings)
    try:
        report = engine.sync(
            engine.actor(ACTOR),
            sink=lambda e: events.append(e) if isinstance(e, Progress) else None,
        )
    finally:
        engine.close()
    assert report.errors == [] and report.bytes_resumed == 30 * MiB
    last = events[-1]
    assert last.bytes_done == SIZE and last.bytes_resumed == 30 * MiB
    assert last.bytes_moved == 10 * MiB
    assert last.rate == pytest.approx(10 * MiB / last.elapsed)
    assert all(e.bytes_resumed in (0, 30 * MiB) for e in events)
