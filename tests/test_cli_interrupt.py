"""Ctrl-C on a real `trainsync sync` process mid-transfer: exit 130, nothing partial, converges."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import AWS_ENV, World, md5
from tests.engine.clitools import ACTOR, one_object
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server

MiB = 1024 * 1024


def blob(n: int, size: int) -> bytes:
    return (bytes([n]) * 4093 + b"\n") * (size // 4094)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    """Poll a condition on another process (there is no event to wait on across processes)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, f"sync ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def run_env(world: World, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINSYNC_", "AWS_"))}
    env.update(AWS_ENV)
    env.update(
        TRAINSYNC_CONFIG=str(tmp_path / "no-user-config.toml"),
        TRAINSYNC_CACHE_DIR=str(tmp_path / "cache"),
        TRAINSYNC_MULTIPART_THRESHOLD=str(5 * MiB),
        TRAINSYNC_MULTIPART_CHUNKSIZE=str(5 * MiB),
        TRAINSYNC_CONCURRENCY="1",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    return env


def test_ctrl_c_mid_transfer_leaves_nothing_partial_and_the_next_sync_converges(
    world: World, tmp_path: Path
) -> None:
    files = {"a_up.bin": blob(1, 21 * MiB)}
    world.put_local(ACTOR, "a_up.bin", files["a_up.bin"])
    for n in range(2, 5):
        files[f"b_down{n}.bin"] = blob(n, 11 * MiB)
        world.put_s3(ACTOR, f"b_down{n}.bin", files[f"b_down{n}.bin"], multipart=True)
    world.write_manifest(ACTOR, {})
    env = run_env(world, tmp_path)
    command = [sys.executable, "-m", "trainsync_tui", "sync", "0042", ACTOR, "--json"]

    proc = subprocess.Popen(
        [*command, *world.cli_flags()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )

    def uploading() -> bool:
        uploads = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
        return any(u["Key"].endswith("a_up.bin") for u in uploads)

    wait_for(uploading, proc, "the multipart upload to start")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, (out, err)
    report = one_object(out.decode())
    assert report["cancelled"] is True
    assert b"cancelling" in err and b"Traceback" not in err
    top = world.actor_dir(ACTOR) / "training_data"
    for path in top.rglob("*"):
        name = path.relative_to(top).as_posix()
        assert name in files and path.read_bytes() == files[name], name
    # The cancelled upload is kept for the next sync to resume, and journalled as ours.
    kept = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
    assert [u["Key"] for u in kept] in ([], [world.key(ACTOR, "a_up.bin")])
    journal = world.actor_dir(ACTOR) / ".trainsync" / "multipart-uploads"
    for upload in kept:
        assert upload["UploadId"] in journal.read_text()
    manifest = json.loads((world.actor_dir(ACTOR) / "manifest.json").read_text())
    for path, entry in manifest["files"].items():
        assert entry["md5"] == md5(files[path])
    assert "a_up.bin" not in world.s3_paths(ACTOR)

    again = subprocess.run(
        [*command, *world.cli_flags()], capture_output=True, env=env, timeout=120
    )
    assert again.returncode == 0, again
    final = one_object(again.stdout.decode())
    assert final["errors"] == []
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    assert world.local_paths(ACTOR) == sorted(files)
    assert world.s3_paths(ACTOR) == sorted(files)
    assert world.read_s3(ACTOR, "a_up.bin") == files["a_up.bin"]
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []


def test_ctrl_c_during_a_download_removes_the_temp_file(world: World, tmp_path: Path) -> None:
    data = blob(7, 31 * MiB)
    world.put_s3(ACTOR, "big.bin", data, multipart=True)
    world.put_s3(ACTOR, "more.bin", blob(8, 11 * MiB), multipart=True)
    env = run_env(world, tmp_path)
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainsync_tui", "sync", ACTOR, *world.cli_flags()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )

    def downloading() -> bool:
        return staging.is_dir() and any(p.stat().st_size > 0 for p in staging.iterdir())

    wait_for(downloading, proc, "the download to start")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, (out, err)
    assert b"cancelled" in out
    # Only what a cancelled download keeps for resume (issue 17) may stay.
    assert [p.name for p in staging.iterdir()] in ([], ["partial"])
    assert world.local_paths(ACTOR) in ([], ["big.bin"])


def held_last_part(request: Request) -> bool:
    """The last of the five 5 MiB parts of an upload or a download: held by the proxy, so the
    sync is certainly mid-way through both when it is killed (a fast run finished first)."""
    part = re.search(r"partNumber=([0-9]+)", request.target)
    if request.method == "PUT" and part:
        return int(part.group(1)) == 5
    ranged = re.match(r"bytes=([0-9]+)-", request.header("range") or "")
    return request.method == "GET" and ranged is not None and int(ranged.group(1)) >= 20 * MiB


def test_kill_9_mid_transfer_is_cleaned_up_by_the_next_sync(
    world: World, tmp_path: Path, s3_server: S3Server
) -> None:
    files = {"a_up.bin": blob(1, 21 * MiB), "b_down.bin": blob(2, 21 * MiB)}
    world.put_local(ACTOR, "a_up.bin", files["a_up.bin"])
    world.put_s3(ACTOR, "b_down.bin", files["b_down.bin"], multipart=True)
    env = run_env(world, tmp_path)
    env["TRAINSYNC_CONCURRENCY"] = "2"
    command = [sys.executable, "-m", "trainsync_tui", "sync", ACTOR, "--json", *world.cli_flags()]
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"

    def both_in_flight() -> bool:
        uploads = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
        started = staging.is_dir() and any(p.stat().st_size for p in staging.iterdir())
        return bool(uploads) and started

    held = {"stall": 1.0}
    with FaultProxy(s3_server.port, held, stall_seconds=30, applies=held_last_part) as proxy:
        through_proxy = [*command[:-1], proxy.url]  # the last flag is --endpoint-url's value
        proc = subprocess.Popen(
            through_proxy, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        wait_for(both_in_flight, proc, "the upload and the download to be held mid-way")
        proc.kill()
        proc.communicate(timeout=60)

    top = world.actor_dir(ACTOR) / "training_data"
    assert sorted(p.name for p in top.iterdir()) in (["a_up.bin"], ["a_up.bin", "b_down.bin"])
    assert world.read_local(ACTOR, "a_up.bin") == files["a_up.bin"]

    again = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert again.returncode == 0, again
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
    assert list(staging.iterdir()) == []
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    assert world.read_local(ACTOR, "b_down.bin") == files["b_down.bin"]
    assert world.read_s3(ACTOR, "a_up.bin") == files["a_up.bin"]
