"""Temp files: a killed run's are all removed by the next one, wherever they are in
training_data/; a user's file that merely looks like one is reported and never deleted."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.reliability.rig import (
    ACTOR,
    cli_env,
    one_json,
    poll_until,
    run_cli,
    start_cli,
)
from trainsync_tui.bench.loopback_proxy import LoopbackListener
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.local.scan import TEMP_NAME_PROBLEM
from trainsync_tui.engine.local.tempfiles import TempFiles

MiB = 1024 * 1024


class HoldingProxy(LoopbackListener):
    """A loopback TCP proxy that forwards every connection until the server has sent it
    `hold_after` bytes, then holds the rest: a download is stuck half-way, on purpose."""

    def __init__(self, upstream_port: int, hold_after: int) -> None:
        self.upstream_port = upstream_port
        self.hold_after = hold_after
        self.release = threading.Event()
        super().__init__()
        self.start()

    def on_accept(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        self.track(upstream)
        threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
        threading.Thread(
            target=self._pipe, args=(upstream, client, self.hold_after), daemon=True
        ).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: limit - sent])
                    self.release.wait()
                    return
                dst.sendall(data)
                sent += len(data)

    def close(self) -> None:
        self.release.set()
        self.stop()


@pytest.fixture
def other_filesystem(world: World) -> Iterator[Path]:
    """training_data/deep/disk/ as a tmpfs: a folder on another filesystem, two levels down."""
    folder = world.local_path(ACTOR, "deep/disk")
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def temp_names(top: Path) -> list[str]:
    return sorted(str(p.relative_to(top)) for p in top.rglob(".trainsync-tmp-*"))


def test_kill_9_mid_download_on_another_filesystem_leaves_no_partial_file(
    world: World, other_filesystem: Path, tmp_path: Path
) -> None:
    top = world.actor_dir(ACTOR) / "training_data"
    big = random.Random(5).randbytes(4 * MiB)  # one GET (under the 5 MiB multipart threshold)
    world.put_s3(ACTOR, "deep/disk/big.bin", big)
    world.put_local(ACTOR, ".trainsync-tmp-keepme", b"the user's own file")
    world.put_local(ACTOR, "deep/disk/.trainsync-tmp-mine", b"also the user's")
    assert os.stat(other_filesystem).st_dev != os.stat(top).st_dev

    proxy = HoldingProxy(int(world.url.rsplit(":", 1)[1]), hold_after=2 * MiB + 4096)
    env = cli_env(world, tmp_path)
    try:
        proc = start_cli(world, env, endpoint=proxy.url)

        def partial() -> bool:
            return any(
                p.stat().st_size >= MiB
                for p in other_filesystem.glob(".trainsync-tmp-*")
                if p.name != ".trainsync-tmp-mine"
            )

        reached = poll_until(partial, proc, 60)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert reached, "the download never started"
    finally:
        proxy.close()
    left = [n for n in temp_names(top) if "keepme" not in n and "mine" not in n]
    assert len(left) == 1 and left[0].startswith("deep/disk/"), left

    done = run_cli(world, env, timeout=120)

    report = one_json(done.stdout)
    assert temp_names(top) == [".trainsync-tmp-keepme", "deep/disk/.trainsync-tmp-mine"]
    assert world.read_local(ACTOR, ".trainsync-tmp-keepme") == b"the user's own file"
    assert world.read_local(ACTOR, "deep/disk/.trainsync-tmp-mine") == b"also the user's"
    assert world.read_local(ACTOR, "deep/disk/big.bin") == big
    assert world.manifest_md5s(ACTOR) == {"deep/disk/big.bin": md5(big)}
    assert sorted(report["errors"]) == [
        f".trainsync-tmp-keepme: {TEMP_NAME_PROBLEM}",
        f"deep/disk/.trainsync-tmp-mine: {TEMP_NAME_PROBLEM}",
    ]
    assert not (world.actor_dir(ACTOR) / ".trainsync" / "temp-files").exists()


def test_user_file_named_like_a_temp_file_is_reported_and_kept(world: World) -> None:
    world.put_local(ACTOR, ".trainsync-tmp-keepme", b"mine")
    world.put_local(ACTOR, "sub/.trainsync-tmp-notes", b"mine too")
    world.put_local(ACTOR, "a.bin", b"a")
    eng = world.engine()
    try:
        first = eng.sync(eng.actor(ACTOR), SyncOptions())
        second = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    expected = [
        f".trainsync-tmp-keepme: {TEMP_NAME_PROBLEM}",
        f"sub/.trainsync-tmp-notes: {TEMP_NAME_PROBLEM}",
    ]
    assert sorted(first.errors) == expected and sorted(second.errors) == expected
    assert first.counts.uploaded == 1 and second.changed == 0
    assert world.read_local(ACTOR, ".trainsync-tmp-keepme") == b"mine"
    assert world.read_local(ACTOR, "sub/.trainsync-tmp-notes") == b"mine too"
    assert world.s3_paths(ACTOR) == ["a.bin"]


def test_clean_up_deletes_only_temps_of_journalled_runs_inside_training_data(
    world: World, tmp_path: Path
) -> None:
    outside = tmp_path / ".trainsync-tmp-run1-x"
    outside.write_bytes(b"not under training_data")
    top = world.actor_dir(ACTOR) / "training_data"
    left = world.put_local(ACTOR, "sub/.trainsync-tmp-run1-0123", b"a killed run's temp")
    other_run = world.put_local(ACTOR, "sub/.trainsync-tmp-run2-0123", b"no record of run2")
    user = world.put_local(ACTOR, ".trainsync-tmp-run1", b"the user's, no '-' after the token")
    journal = world.actor_dir(ACTOR) / ".trainsync" / "temp-files"
    journal.parent.mkdir(parents=True)
    records = [["run1", str(tmp_path)], ["run1", str(top / "sub")], ["run1", f"{top}/sub/.."]]
    journal.write_text("".join(json.dumps(r) + "\n" for r in records) + '["run2", "trunc')
    eng = world.engine()
    try:
        report = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    assert not left.exists()
    assert outside.read_bytes() == b"not under training_data"
    assert other_run.read_bytes() == b"no record of run2"
    assert user.read_bytes() == b"the user's, no '-' after the token"
    assert sorted(report.errors) == [
        f".trainsync-tmp-run1: {TEMP_NAME_PROBLEM}",
        f"sub/.trainsync-tmp-run2-0123: {TEMP_NAME_PROBLEM}",
    ]
    assert not journal.exists()


def test_an_audit_during_a_sync_does_not_report_the_syncs_own_temps(
    world: World, other_filesystem: Path
) -> None:
    eng = world.engine()
    try:
        layout = eng.actor(ACTOR)
        # What a running sync (another process, holding the lock) has made so far.
        running = TempFiles(layout)
        temp = running.new(other_filesystem / "big.bin")
        temp.write_bytes(b"half a download")
        world.put_local(ACTOR, "deep/disk/.trainsync-tmp-keepme", b"the user's")

        audit = eng.audit(layout)
    finally:
        eng.close()

    assert temp.parent == other_filesystem
    assert [str(i) for i in audit.listings.blocked] == [
        f"deep/disk/.trainsync-tmp-keepme: {TEMP_NAME_PROBLEM}"
    ]


def test_an_orphan_on_another_filesystem_goes_to_the_trash(
    world: World, other_filesystem: Path
) -> None:
    world.put_local(ACTOR, "deep/disk/orphan.bin", b"not in the manifest")
    eng = world.engine()
    try:
        report = eng.sync(eng.actor(ACTOR), SyncOptions(delete_orphans=True, force=True))
    finally:
        eng.close()

    assert report.errors == [] and report.counts.deleted_local == 1
    assert world.local_paths(ACTOR) == []
    trashed = list((world.actor_dir(ACTOR) / ".trainsync" / "trash").rglob("orphan.bin"))
    assert [p.read_bytes() for p in trashed] == [b"not in the manifest"]
