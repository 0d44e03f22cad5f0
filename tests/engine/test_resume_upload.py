"""An interrupted multipart upload of an unchanged file is continued by the next sync, not
sent again from byte 0; a changed file, a part that does not match, or an upload too old
starts again (issue 17, uploads)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import one_object
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from tests.test_cli_interrupt import run_env
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import Event, Message
from trainsync_tui.engine.facade import Engine, SyncOptions

ACTOR = "0017_resume"
MiB = 1024 * 1024
PARTS = 10
DATA = b"".join(hashlib.sha256(bytes([n])).digest() * (MiB // 32) for n in range(PARTS * 5))


class PartGate:
    """Holds the n-th UploadPart at the proxy (never forwarded: it is reset) and tells the
    test, which then kills the client: exactly n - 1 parts are in S3 at the kill."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: Request) -> bool:
        if not (request.method == "PUT" and "partNumber=" in request.target):
            return False
        self.seen += 1
        if self.seen != self.n:
            return False
        self.reached.set()
        self.release.wait(60)
        return True  # the proxy resets it: the part never reaches S3


def part_bytes(proxy: FaultProxy, since: int) -> int:
    sent = zip(proxy.log[since:], proxy.headers[since:], strict=True)
    return sum(
        int(h.get("content-length", 0))
        for (method, target), h in sent
        if method == "PUT" and "partNumber=" in target
    )


@pytest.fixture
def gate() -> PartGate:
    return PartGate(8)


@pytest.fixture
def proxy(s3_server: S3Server, gate: PartGate) -> Iterator[FaultProxy]:
    with FaultProxy(s3_server.port, rates={"reset": 1.0}, applies=gate) as running:
        yield running


def test_kill_9_mid_upload_then_the_rerun_sends_only_the_missing_parts(
    world: World, tmp_path: Path, proxy: FaultProxy, gate: PartGate
) -> None:
    world.put_local(ACTOR, "ckpt.bin", DATA)
    env = run_env(world, tmp_path)
    flags = ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", proxy.url]
    command = [sys.executable, "-m", "trainsync_tui", "sync", ACTOR, "--json", *flags]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert gate.reached.wait(120), "the upload never reached its 8th part"
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        gate.release.set()
    (upload,) = world.s3.list_multipart_uploads(Bucket=world.bucket)["Uploads"]
    parts = world.s3.list_parts(Bucket=world.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert [p["PartNumber"] for p in parts["Parts"]] == list(range(1, 8))

    before = len(proxy.log)
    again = subprocess.run(command, capture_output=True, env=env, timeout=120)

    assert again.returncode == 0, again
    report = one_object(again.stdout.decode())
    assert report["errors"] == [] and report["uploaded"] == 1
    assert report["bytes_resumed"] == 7 * 5 * MiB
    assert world.engine().history(ACTOR)[0].bytes_resumed == 7 * 5 * MiB
    sent = part_bytes(proxy, before)
    assert sent == 3 * 5 * MiB and sent <= 0.35 * len(DATA)
    assert world.read_s3(ACTOR, "ckpt.bin") == DATA
    assert world.manifest_md5s(ACTOR) == {"ckpt.bin": md5(DATA)}
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
    assert not (world.actor_dir(ACTOR) / ".trainsync" / "multipart-uploads").exists()


# -- in-process: cancel keeps the upload; what must not be resumed starts again ------------


def engine(world: World) -> Engine:
    settings = dataclasses.replace(
        world.settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, concurrency=1
    )
    return Engine(settings)


def cancelled_after(world: World, parts: int) -> str:
    """Sync ckpt.bin and cancel once `parts` parts are in S3; returns the kept upload ID."""
    world.put_local(ACTOR, "ckpt.bin", DATA)
    eng = engine(world)
    cancel = CancelToken()
    done: list[int] = []

    def count(**_: object) -> None:
        done.append(1)
        if len(done) == parts:
            cancel.cancel()

    eng.client.meta.events.register("after-call.s3.UploadPart", count)
    report = eng.sync(eng.actor(ACTOR), SyncOptions(), cancel=cancel)
    eng.close()
    assert report.cancelled
    (upload,) = world.s3.list_multipart_uploads(Bucket=world.bucket)["Uploads"]
    return str(upload["UploadId"])


def rerun(world: World) -> tuple[dict[str, object], int, list[str]]:
    """Sync again; the report, the UploadPart bytes it sent, and its info lines."""
    eng = engine(world)
    sent: list[int] = []

    def count(params: dict[str, object], **_: object) -> None:
        sent.append(int(str(params["ContentLength"])))

    eng.client.meta.events.register("before-parameter-build.s3.UploadPart", count)
    events: list[Event] = []
    report = eng.sync(eng.actor(ACTOR), SyncOptions(), sink=events.append)
    eng.close()
    assert report.errors == [] and report.counts.uploaded == 1
    assert world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []) == []
    infos = [e.text for e in events if isinstance(e, Message)]
    return report.to_json(), sum(sent), infos


def test_cancel_keeps_the_upload_and_the_next_sync_resumes_it(world: World) -> None:
    cancelled_after(world, 6)
    report, sent, infos = rerun(world)
    assert report["bytes_resumed"] == 6 * 5 * MiB and sent == 4 * 5 * MiB
    assert "ckpt.bin: resumed 30.0 MiB of 50.0 MiB" in infos
    assert world.read_s3(ACTOR, "ckpt.bin") == DATA


def test_a_changed_file_starts_again(world: World) -> None:
    old = cancelled_after(world, 6)
    changed = DATA[:-1] + b"!"
    world.put_local(ACTOR, "ckpt.bin", changed)
    report, sent, _ = rerun(world)
    assert report["bytes_resumed"] == 0 and sent == len(changed)
    assert world.read_s3(ACTOR, "ckpt.bin") == changed
    assert old not in json.dumps(world.s3.list_multipart_uploads(Bucket=world.bucket))


def test_a_part_that_does_not_match_starts_again(world: World) -> None:
    upload_id = cancelled_after(world, 6)
    world.s3.upload_part(
        Bucket=world.bucket,
        Key=world.key(ACTOR, "ckpt.bin"),
        UploadId=upload_id,
        PartNumber=2,
        Body=b"not the file" * 1000,
    )
    report, sent, _ = rerun(world)
    assert report["bytes_resumed"] == 0 and sent == len(DATA)
    assert world.read_s3(ACTOR, "ckpt.bin") == DATA


def test_an_upload_older_than_the_stale_age_starts_again(world: World) -> None:
    cancelled_after(world, 6)
    journal = world.actor_dir(ACTOR) / ".trainsync" / "multipart-uploads"
    entry = json.loads(journal.read_text())
    entry["started"] -= 8 * 86400  # stale_upload_days is 7
    journal.write_text(json.dumps(entry) + "\n")
    report, sent, _ = rerun(world)
    assert report["bytes_resumed"] == 0 and sent == len(DATA)
    assert world.read_s3(ACTOR, "ckpt.bin") == DATA
