"""--all across local-only and S3-only actors, and the per-actor lock seen from the CLI."""

from __future__ import annotations

import contextlib
import os
import threading

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, one_object
from trainsync_tui.cli import main
from trainsync_tui.engine.local.flock import actor_lock

LOCAL_ONLY = "0001_local_only"
S3_ONLY = "0002_s3_only"


def test_all_discovers_local_only_and_s3_only_actors(world: World, capsys) -> None:
    world.put_local(LOCAL_ONLY, "a.bin", b"a")
    world.put_s3(S3_ONLY, "deep/b.bin", b"b")
    world.put_local(ACTOR, "c.bin", b"c")
    world.put_s3(ACTOR, "c.bin", b"c")

    code = main(["sync", "--all", "--json", *world.cli_flags()])
    reports = one_object(capsys.readouterr().out)

    assert code == 0
    assert sorted(reports) == sorted([LOCAL_ONLY, S3_ONLY, ACTOR])
    assert reports[LOCAL_ONLY]["uploaded"] == 1
    assert reports[S3_ONLY]["downloaded"] == 1
    assert reports[ACTOR]["added_to_manifest"] == 1
    assert all(r["errors"] == [] for r in reports.values())
    assert world.read_local(S3_ONLY, "deep/b.bin") == b"b"
    assert world.manifest_md5s(S3_ONLY) == {"deep/b.bin": md5(b"b")}


def test_all_goes_on_past_an_actor_with_a_broken_manifest(world: World, capsys) -> None:
    world.put_local(LOCAL_ONLY, "a.bin", b"a")
    world.put_local(ACTOR, "c.bin", b"c")
    (world.actor_dir(ACTOR) / "manifest.json").write_text("{broken")

    code = main(["sync", "--all", "--json", *world.cli_flags()])
    reports = one_object(capsys.readouterr().out)

    assert code == 1
    assert reports[LOCAL_ONLY]["uploaded"] == 1 and reports[LOCAL_ONLY]["errors"] == []
    assert "manifest.json" in reports[ACTOR]["errors"][0]
    assert world.s3_paths(ACTOR) == []


def test_audit_all_prints_one_object_keyed_by_actor(world: World, capsys) -> None:
    world.put_local(LOCAL_ONLY, "a.bin", b"a")
    world.put_s3(S3_ONLY, "b.bin", b"b")
    code = main(["audit", "--all", "--json", *world.cli_flags()])
    summary = one_object(capsys.readouterr().out)
    assert code == 0
    assert sorted(summary) == [LOCAL_ONLY, S3_ONLY]
    assert summary[S3_ONLY]["counts"]["downloaded"] == 1
    assert world.local_paths(S3_ONLY) == []


def test_sync_refuses_while_another_holds_the_actor_lock(world: World, capsys) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    with actor_lock(world.root / ".trainsync", ACTOR, "the test holder"):
        code = main(["sync", "0042", ACTOR, *world.cli_flags()])
        out, err = capsys.readouterr()
    assert code == 1
    assert "already being synced by the test holder" in err
    assert f"pid {os.getpid()}" in err
    assert "Traceback" not in out + err
    assert world.s3_paths(ACTOR) == []


def _open_handles(path: str) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}") == path
    return count


def test_wait_waits_for_the_lock_then_syncs(world: World, capsys) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    lock_file = str(world.root / ".trainsync" / "locks" / f"{ACTOR}.lock")
    held = threading.Event()
    released = threading.Event()
    waiter_seen = threading.Event()

    def holder() -> None:
        with actor_lock(world.root / ".trainsync", ACTOR, "the test holder"):
            held.set()
            # Release only once the CLI has opened the lock file and is waiting on it.
            while _open_handles(lock_file) < 2:
                if waiter_seen.wait(0.01):
                    break
            released.set()

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    try:
        code = main(["sync", ACTOR, "--wait", "--json", *world.cli_flags()])
    finally:
        waiter_seen.set()
        thread.join(10)
    report = one_object(capsys.readouterr().out)
    assert released.is_set()
    assert code == 0 and report["uploaded"] == 1


def test_dry_run_does_not_need_the_lock(world: World, capsys) -> None:
    world.put_local(ACTOR, "a.bin", b"a")
    with actor_lock(world.root / ".trainsync", ACTOR, "the test holder"):
        code = main(["sync", ACTOR, "--dry-run", "--json", *world.cli_flags()])
    assert code == 0 and one_object(capsys.readouterr().out)["uploaded"] == 1
