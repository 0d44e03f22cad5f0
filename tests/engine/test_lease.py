"""Two roots on one bucket never sync one actor at once: the S3 lease beside the local flock."""

from __future__ import annotations

import dataclasses
import getpass
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from trainsync_tui.bench.loopback_proxy import s3_error, send
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import LockBusyError
from trainsync_tui.engine.events import Event, Message, Stage, ignore
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.local.flock import actor_lock
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX, Lease, lease_key

ACTOR = "0042_european_30_male"
ME = f"{getpass.getuser()}@{socket.gethostname()}"


def second_root(world: World, tmp_path: Path) -> World:
    root = tmp_path / "root-b"
    (root / "data" / "actors").mkdir(parents=True)
    return World(root, world.bucket, world.url, world.s3)


def the_lease_key(world: World) -> str:
    return lease_key(world.settings.prefix_for(ACTOR))


class Held:
    """Root A's sync, stopped inside its plan stage until `release()`: it holds the lease."""

    def __init__(self, world: World) -> None:
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.report: SyncReport | None = None
        self.failure: BaseException | None = None
        self.ready = threading.Event()  # inside the plan, or ended without getting there
        self.engine = world.engine()
        self._thread = threading.Thread(target=self._run)

    def _sink(self, event: Event) -> None:
        if isinstance(event, Stage) and event.stage == "plan":
            self.inside.set()
            self.ready.set()
            assert self.go_on.wait(30), "the test never let root A go on"

    def _run(self) -> None:
        try:
            layout = self.engine.actor(ACTOR)
            self.report = self.engine.sync(layout, SyncOptions(), sink=self._sink)
        except BaseException as exc:
            self.failure = exc
        finally:
            self.ready.set()

    def __enter__(self) -> Held:
        self._thread.start()
        assert self.ready.wait(60), "root A never reached its plan"
        assert self.inside.is_set(), f"root A ended before its plan: {self.failure} {self.report}"
        return self

    def release(self) -> SyncReport:
        self.go_on.set()
        self._thread.join(30)
        assert self.report is not None
        return self.report

    def __exit__(self, *_: object) -> None:
        self.go_on.set()
        self._thread.join(30)
        self.engine.close()


def sync(
    world: World, options: SyncOptions | None = None, sink: Callable[[Event], None] | None = None
) -> SyncReport:
    """One sync from `world`'s root; a run that waits is cancelled after 60 s, not hung."""
    engine = world.engine()
    cancel = CancelToken()
    deadline = threading.Timer(60, cancel.cancel)
    deadline.start()
    try:
        options = options or SyncOptions()
        return engine.sync(engine.actor(ACTOR), options, cancel=cancel, sink=sink or ignore)
    finally:
        deadline.cancel()
        engine.close()


def sync_told(world: World, options: SyncOptions | None = None) -> tuple[SyncReport, list[str]]:
    """`sync`, and the texts of the messages it told the user."""
    messages: list[str] = []

    def told(event: Event) -> None:
        if isinstance(event, Message):
            messages.append(event.text)

    return sync(world, options, told), messages


def test_a_second_root_refuses_while_the_first_holds_the_lease(
    world: World, tmp_path: Path
) -> None:
    world.put_local(ACTOR, "a.bin", b"from root A")
    other = second_root(world, tmp_path)
    other.put_local(ACTOR, "b.bin", b"from root B")

    with Held(world) as a:
        with pytest.raises(LockBusyError) as refused:
            sync(other)
        dry = sync(other, SyncOptions(dry_run=True))  # a dry run takes no lease
        report_a = a.release()

    message = str(refused.value)
    assert message.startswith(f"{ACTOR} is already being synced by {ME} (pid {os.getpid()})")
    assert "or pass --wait" in message
    assert dry.errors == [] and dry.counts.uploaded == 1
    assert report_a.errors == [] and report_a.counts.uploaded == 1
    assert other.s3_paths(ACTOR) == ["a.bin"]  # B changed nothing
    assert the_lease_key(world) not in world.s3_keys()  # released at the end


_SAME_PATH = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'


def test_a_cloned_root_at_the_same_path_does_not_take_a_live_lease(
    world: World, tmp_path: Path
) -> None:
    """Cloned VMs, or containers that mount the host's machine-id and each have a volume at
    the same path: the clone holds a copy of the root, state folder included, under the
    same path and machine id. Root A's lease is alive; the clone must wait for it, not take
    it as one left by a dead run of its own (issue 22 item 1: all of one side's edits lost).
    A mount namespace puts the copy at A's very path for the clone's run."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    world.put_local(ACTOR, "a.bin", b"from root A")
    clone = tmp_path / "clone"
    with Held(world) as a:
        shutil.copytree(world.root, clone, symlinks=True)
        (clone / "data" / "actors" / ACTOR / "training_data" / "b.bin").write_bytes(b"clone")
        run = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", _SAME_PATH, "sh",
             str(clone), str(world.root), sys.executable, "-m", "trainsync_tui",
             "sync", ACTOR, "--json", *world.cli_flags()],
            capture_output=True, text=True, timeout=120, env=dict(os.environ),
        )  # fmt: skip
        report_a = a.release()
    if run.returncode != 0 and "unshare" in run.stderr.split(":", 1)[0]:
        pytest.skip(f"no mount namespace here: {run.stderr.strip()}")
    assert "is already being synced by" in run.stderr, (run.returncode, run.stderr)
    assert run.returncode == 1
    assert report_a.errors == [] and report_a.counts.uploaded == 1
    assert world.s3_paths(ACTOR) == ["a.bin"]  # the clone wrote nothing


def test_a_second_root_with_wait_syncs_after_the_first_ends(world: World, tmp_path: Path) -> None:
    world.put_local(ACTOR, "a.bin", b"from root A")
    other = second_root(world, tmp_path)
    other.put_local(ACTOR, "b.bin", b"from root B")
    order: list[str] = []
    waiting = threading.Event()

    def sink_b(event: Event) -> None:
        if isinstance(event, Message) and "waiting for the S3 lease" in event.text:
            waiting.set()
        elif isinstance(event, Stage) and event.stage == "scan" and "b" not in order:
            order.append("b")

    results: list[SyncReport] = []
    with Held(world) as a:
        b = threading.Thread(
            target=lambda: results.append(sync(other, SyncOptions(wait=True), sink_b))
        )
        b.start()
        assert waiting.wait(30), "root B never waited for the lease"
        order.append("a released")
        a.release()
        b.join(60)

    assert order == ["a released", "b"]
    assert results[0].errors == []
    assert results[0].counts.uploaded == 1 and results[0].counts.downloaded == 1
    assert sorted(other.local_paths(ACTOR)) == ["a.bin", "b.bin"]


def test_an_expired_lease_is_taken_over(world: World) -> None:
    stale = {
        "holder": "ghost@elsewhere", "pid": 4242, "token": "old", "ttl_s": 0,
        "expires": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    world.s3.put_object(Bucket=world.bucket, Key=the_lease_key(world), Body=json.dumps(stale))
    world.put_local(ACTOR, "a.bin", b"data")

    # S3 times are whole seconds: a lease that runs out "now" is taken within the next one.
    report, messages = sync_told(world, SyncOptions(wait=True))

    assert not report.cancelled
    assert report.errors == [] and report.counts.uploaded == 1
    took = "took over the expired S3 lease of ghost@elsewhere (pid 4242)"
    assert any(took in m for m in messages)
    assert the_lease_key(world) not in world.s3_keys()


def test_a_live_lease_of_another_server_is_not_taken_over(world: World) -> None:
    live = {"holder": "other@server-b", "pid": 7, "token": "theirs", "ttl_s": 3600}
    world.s3.put_object(Bucket=world.bucket, Key=the_lease_key(world), Body=json.dumps(live))
    world.put_local(ACTOR, "a.bin", b"data")

    with pytest.raises(LockBusyError, match=r"already being synced by other@server-b \(pid 7\)"):
        sync(world)

    assert world.s3_paths(ACTOR) == []
    body = world.s3.get_object(Bucket=world.bucket, Key=the_lease_key(world))["Body"].read()
    assert json.loads(body)["token"] == "theirs"


_HOLDER = """
import sys
from tests.conftest import s3_client
from trainsync_tui.engine.s3.lease import Lease
url, bucket, key = sys.argv[1:4]
lease = Lease(s3_client(url), bucket, key, "0042_european_30_male", endpoint=url, ttl=3.0)
lease.acquire(wait=False)
print("held", flush=True)
sys.stdin.read()
"""


def test_a_killed_holders_lease_expires_and_is_taken_over(world: World) -> None:
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, world.url, world.bucket, the_lease_key(world)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=repo, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
    world.put_local(ACTOR, "a.bin", b"data")

    with pytest.raises(LockBusyError, match=rf"\(pid {holder.pid}\)"):
        sync(world)  # killed, but its lease has not run out yet
    report, messages = sync_told(world, SyncOptions(wait=True))

    assert not report.cancelled
    assert report.errors == [] and report.counts.uploaded == 1
    assert any(f"took over the expired S3 lease of {ME} (pid {holder.pid})" in m for m in messages)


def test_a_lease_taken_over_meanwhile_stops_the_renewing_run(world: World) -> None:
    cancel = CancelToken()
    key = the_lease_key(world)
    lease = Lease(world.s3, world.bucket, key, ACTOR, endpoint=world.url, ttl=0.6, cancel=cancel)
    lease.acquire(wait=False)
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=b'{"holder": "thief@b"}')

    assert cancel.wait(10), "the renewal never noticed the lease was gone"
    lease.release()
    assert lease.lost is not None and "another server took over" in lease.lost
    body = world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read()
    assert b"thief@b" in body  # not deleted by the run that lost it


def test_the_lease_object_is_never_seen_as_a_file_or_an_actor(world: World) -> None:
    world.s3.put_object(Bucket=world.bucket, Key=the_lease_key(world), Body=b"{}")
    world.put_s3(ACTOR, "a.bin", b"data")
    engine = world.engine()
    try:
        skipped: list[str] = []
        names = engine.actor_names(on_skip=skipped.append)
        audit_paths = engine.sync(engine.actor(ACTOR), SyncOptions(dry_run=True)).total_files
    finally:
        engine.close()

    assert names == [ACTOR] and skipped == []
    assert audit_paths == 1
    assert the_lease_key(world) == f"actors/{ACTOR}/training_data.trainsync-lease.json"


def test_a_run_that_ends_with_an_engine_close_leaves_no_lease(world: World) -> None:
    world.put_local(ACTOR, "a.bin", b"data")
    report = sync(world)
    assert report.errors == []
    assert world.s3_keys() == [world.key(ACTOR, "a.bin")]


def test_a_lease_left_by_a_killed_run_of_this_root_is_taken_over_at_once(world: World) -> None:
    # Holding this root's flock, a live lease naming that very lock can only be a dead run's.
    with actor_lock(world.settings.state_dir, ACTOR, "a run killed with -9") as proof:
        assert proof is not None
    left = {"holder": ME, "pid": 99999, "token": "dead", "ttl_s": 3600, "lock": proof}
    world.s3.put_object(Bucket=world.bucket, Key=the_lease_key(world), Body=json.dumps(left))
    world.put_local(ACTOR, "a.bin", b"data")

    report, messages = sync_told(world)

    assert report.errors == [] and report.counts.uploaded == 1
    assert any("left by a run on this root that ended without releasing it" in m for m in messages)
    assert the_lease_key(world) not in world.s3_keys()


class RefusesConditions(FaultProxy):
    """A gateway that answers 501 NotImplemented to any conditional write, as S3 says to."""

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        conditional = request.header("if-none-match") or request.header("if-match")
        if request.method in ("PUT", "POST", "DELETE") and conditional:
            self._count("refused")
            refused = s3_error(501, "Not Implemented", "NotImplemented", "no conditions", "lease")
            send(client, request, refused)
            return True
        return super().handle(client, upstream, request)


def test_a_server_refusing_conditional_writes_gets_one_warning_and_the_lease_still_works(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    world.put_local(ACTOR, "a.bin", b"data")
    messages: list[str] = []

    def sink(event: Event) -> None:
        if isinstance(event, Message):
            messages.append(event.text)

    with RefusesConditions(s3_server.port) as proxy:
        through = dataclasses.replace(world, url=proxy.url)
        first = sync(through, sink=sink)
        other = dataclasses.replace(second_root(world, tmp_path), url=proxy.url)
        live = {"holder": "other@server-b", "pid": 7, "token": "theirs", "ttl_s": 3600}
        world.s3.put_object(Bucket=world.bucket, Key=the_lease_key(world), Body=json.dumps(live))
        with pytest.raises(LockBusyError, match=r"other@server-b \(pid 7\)"):
            sync(other, sink=sink)  # read-then-write still sees a live lease

    assert proxy.counts["refused"] >= 1
    assert first.errors == [] and first.counts.uploaded == 1
    warned = [m for m in messages if "refuses conditional writes" in m]
    assert len(warned) == 1, messages
    assert warned[0].endswith("(--debug: why)")  # the why is behind --debug


def test_a_run_whose_renewal_is_held_stops_writing_before_its_lease_can_be_taken(
    world: World, s3_server: S3Server
) -> None:
    """Fencing: only the lease key's renewals go silent (issue 22 item 2: the renewal waited
    out request_deadline while another server took over, and the first went on uploading
    for 16 s). By its own clock the run may write until the start of its last good lease
    write + TTL − margin; another server may take over only at LastModified + TTL, later."""
    ttl = 3.0
    for n in range(12):
        world.put_local(ACTOR, f"f{n:02d}.bin", bytes([n]) * 256 * 1024)
    taken: list[float] = []
    held: list[float] = []
    writes: list[float] = []

    def renewals_held(request: Request) -> bool:
        now = time.monotonic()
        if request.method in ("PUT", "POST", "DELETE") and LEASE_SUFFIX not in request.target:
            writes.append(now)
        if request.method == "PUT" and LEASE_SUFFIX in request.target:
            renewal = request.header("if-match") is not None
            (held if renewal else taken).append(now)
            return renewal  # the take goes through, every renewal is held
        return False

    with FaultProxy(s3_server.port, {"stall": 1.0}, stall_seconds=60, applies=renewals_held) as p:
        settings = dataclasses.replace(
            world.settings, endpoint_url=p.url, lease_ttl=ttl, bwlimit="512K"
        )
        engine = Engine(settings)
        try:
            report = engine.sync(engine.actor(ACTOR))
        finally:
            p.stop()
            engine.close()

    assert any("could not be renewed in time" in e for e in report.errors), report.errors
    assert taken and held, "no renewal was held"
    assert writes, "the run wrote nothing before its lease lapsed"
    # The take's PUT left the client before S3 stamped it: S3's LastModified + TTL, the
    # earliest another server may take over, is later than this.
    assert max(writes) < taken[-1] + ttl, (max(writes) - taken[-1], ttl)
    assert report.counts.uploaded < 12  # stopped well before the end
    uploaded = set(world.s3_paths(ACTOR))
    assert set(world.manifest_md5s(ACTOR)) == uploaded  # the manifest records what finished


def test_clean_waits_for_the_lease_like_a_sync(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # clean judges which uploads are abandoned: while another server syncs the actor, its
    # uploads are not (issue 22 item 7).
    from trainsync_tui.cli import main

    world.put_local(ACTOR, "a.bin", b"from root A")
    other = second_root(world, tmp_path)
    other.put_local(ACTOR, "b.bin", b"from root B")

    with Held(world) as a:
        code = main(["clean", ACTOR, *other.cli_flags()])
        report_a = a.release()

    err = capsys.readouterr().err
    assert code == 1 and "is already being synced by" in err, (code, err)
    assert report_a.errors == []
