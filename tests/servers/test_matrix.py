"""The engine end to end on every S3 server of the matrix (tests/servers/conftest.py).

One scenario, in steps so a failure on one server names its step: root A uploads 50 small
files and two multipart ones, audits, changes three and syncs; a key with '%20' in it; root
B pulls; orphans are deleted (dry run, then for real); objects written by boto3 with 8 MiB
and 16 MiB parts come down verified. The same assertions hold on every server; where a
server has a bug that is not ours (targets.py), the test names it and expects trainsync to
report it per path or per server, never to sync wrong.
"""

from __future__ import annotations

import hashlib
import io
import random

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig

from tests.conftest import World
from tests.servers.conftest import Matrix
from tests.servers.targets import (
    ETAG_NOT_MD5,
    IGNORES_CONDITIONS,
    NANIO_PERCENT_KEY,
    S3RVER_MAX_KEYS_1,
)
from trainsync_tui.engine.events import Event, Message
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.fleet_listing import FleetListing, start_fleet_listing
from trainsync_tui.engine.s3.lease import lease_key
from trainsync_tui.engine.s3.listing import scan_remote

ACTOR = "0042_european_30_male"
MiB = 1024 * 1024
ODD = "notes/100%20done.txt"  # a legal key that nanio cannot sign (NANIO_PERCENT_KEY)
CHANGED = ("images/0003.png", "labels/0004.json", "big/a.bin")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def dataset(seed: int) -> dict[str, bytes]:
    """50 small files in three folders and two multipart ones (2 and 3 parts of 5 MiB)."""
    rng = random.Random(seed)
    files: dict[str, bytes] = {}
    for i in range(50):
        folder = ("images", "labels", "audio/clips")[i % 3]
        files[f"{folder}/{i:04d}.{'png' if i % 3 == 0 else 'json'}"] = rng.randbytes(
            rng.randrange(1, 5000)
        )
    files["big/a.bin"] = rng.randbytes(6 * MiB)
    files["big/b.bin"] = rng.randbytes(11 * MiB)
    return files


def sync(world: World, messages: list[str] | None = None, **options: object) -> SyncReport:
    def sink(event: Event) -> None:
        if messages is not None and isinstance(event, Message):
            messages.append(event.text)

    engine = world.engine()
    try:
        return engine.sync(engine.actor(ACTOR), SyncOptions(**options), sink=sink)  # type: ignore[arg-type]
    finally:
        engine.close()


def error_paths(report: SyncReport) -> set[str]:
    return {error.split(": ", 1)[0] for error in report.errors}


def s3_bytes(world: World, path: str) -> bytes:
    return world.read_s3(ACTOR, path)


def seeded(m: Matrix) -> dict[str, bytes]:
    """Root A holds the dataset and has synced it once, cleanly."""
    files = dataset(1)
    for path, data in files.items():
        m.a.put_local(ACTOR, path, data)
    first = sync(m.a)
    assert first.errors == [] and first.counts.uploaded == len(files), first.errors
    return files


def conditional_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "conditional" in m or "If-None-Match" in m]


def test_upload_audit_change_and_sync(matrix: Matrix) -> None:
    m = matrix
    files = dataset(1)
    for path, data in files.items():
        m.a.put_local(ACTOR, path, data)
    messages: list[str] = []

    first = sync(m.a, messages)

    assert first.errors == [] and first.conflicts == []
    assert first.counts.uploaded == first.counts.added_to_manifest == len(files)
    for path, data in files.items():
        assert s3_bytes(m.a, path) == data, path
    assert m.a.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}

    audit = sync(m.a, dry_run=True)

    assert audit.errors == [] and audit.unverified == [] and audit.conflicts == []
    assert audit.counts.total == 0, audit.counts
    assert audit.in_sync == len(files)

    new = {path: f"changed {path}".encode() * (1 + len(files[path]) // 20) for path in CHANGED}
    for path, data in new.items():
        m.a.put_local(ACTOR, path, data)
    second = sync(m.a, messages)

    assert second.errors == [] and second.conflicts == []
    assert second.counts.uploaded == second.counts.updated_in_manifest == 3
    assert second.counts.downloaded == 0
    for path, data in new.items():
        assert s3_bytes(m.a, path) == data, path
        assert m.a.manifest_md5s(ACTOR)[path] == md5(data)
    # The lease is gone after each run; a server without conditional writes is named once.
    assert lease_key(m.a.settings.prefix_for(ACTOR)) not in m.a.s3_keys()
    warned = conditional_warnings(messages)
    assert len(warned) == (1 if m.target.has(IGNORES_CONDITIONS) else 0), warned


def test_a_key_the_server_cannot_sign_is_one_error_naming_the_path(matrix: Matrix) -> None:
    m = matrix
    files = seeded(m)
    m.a.put_local(ACTOR, ODD, b"odd name")
    # nanio's own bug (NANIO_PERCENT_KEY): that one path fails, named; nothing else changes.
    refused = m.target.has(NANIO_PERCENT_KEY)

    report = sync(m.a)

    if refused:
        assert error_paths(report) == {ODD}, report.errors
        assert "SignatureDoesNotMatch" in report.errors[0]
        assert report.counts.uploaded == 0
        assert m.a.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    else:
        assert report.errors == [] and report.counts.uploaded == 1
        assert s3_bytes(m.a, ODD) == b"odd name"
        assert m.a.manifest_md5s(ACTOR)[ODD] == md5(b"odd name")
    assert m.a.read_local(ACTOR, ODD) == b"odd name"


def test_a_second_root_pulls_everything_verified(matrix: Matrix) -> None:
    m = matrix
    files = seeded(m)

    pulled = sync(m.b)

    assert pulled.errors == [] and pulled.conflicts == []
    assert pulled.unverified == []
    assert pulled.counts.downloaded == len(files)
    for path, data in files.items():
        assert m.b.read_local(ACTOR, path) == data, path
    assert m.b.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}

    again = sync(m.b)

    assert again.errors == [] and again.counts.total == 0, again.counts
    fresh = World(m.b.root.parent / "empty-root", m.b.bucket, m.b.url, m.b.s3)
    (fresh.root / "data" / "actors").mkdir(parents=True)
    engine = fresh.engine()
    try:
        names = engine.actor_names()  # from S3 alone: this root has no actor folder
        engine.require_actor(engine.actor(ACTOR))  # known from S3 alone (no MaxKeys=1)
    finally:
        engine.close()
    # On s3rver too, whose delimiter listing leaves the actor's folder out of CommonPrefixes.
    assert names == [ACTOR]


def test_delete_orphans_dry_run_then_for_real(matrix: Matrix) -> None:
    m = matrix
    files = seeded(m)
    m.a.put_local(ACTOR, "stray/local.txt", b"local orphan")
    m.a.s3.put_object(
        Bucket=m.a.bucket, Key=m.a.key(ACTOR, "stray/remote.txt"), Body=b"remote orphan"
    )

    dry = sync(m.a, dry_run=True, delete_orphans=True)

    assert dry.errors == [] and (dry.counts.deleted_local, dry.counts.deleted_s3) == (1, 1)
    assert m.a.read_local(ACTOR, "stray/local.txt") == b"local orphan"
    assert s3_bytes(m.a, "stray/remote.txt") == b"remote orphan"

    real = sync(m.a, delete_orphans=True)

    assert real.errors == [] and (real.counts.deleted_local, real.counts.deleted_s3) == (1, 1)
    assert m.a.local_paths(ACTOR) == sorted(files)
    assert m.a.s3_paths(ACTOR) == sorted(files)
    trash = list((m.a.actor_dir(ACTOR) / ".trainsync" / "trash").rglob("local.txt"))
    assert [p.read_bytes() for p in trash] == [b"local orphan"]
    (kept,) = m.a.s3_keys(f"trainsync-trash/{ACTOR}/")
    assert kept.endswith("/stray/remote.txt")
    assert m.a.s3.get_object(Bucket=m.a.bucket, Key=kept)["Body"].read() == b"remote orphan"
    assert m.a.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}


def foreign_upload(m: Matrix, path: str, data: bytes, part: int) -> None:
    """What `aws s3 cp` does: boto3's transfer manager, default checksums, `part`-sized parts."""
    config = TransferConfig(multipart_threshold=part, multipart_chunksize=part)
    key = m.a.key(ACTOR, path)
    m.target.client().upload_fileobj(io.BytesIO(data), m.a.bucket, key, Config=config)


def test_objects_written_by_boto3_with_8_and_16_mib_parts_come_down_verified(
    matrix: Matrix,
) -> None:
    m = matrix
    rng = random.Random(7)
    foreign = {"aws/eight.bin": rng.randbytes(17 * MiB), "aws/sixteen.bin": rng.randbytes(17 * MiB)}
    foreign_upload(m, "aws/eight.bin", foreign["aws/eight.bin"], 8 * MiB)
    foreign_upload(m, "aws/sixteen.bin", foreign["aws/sixteen.bin"], 16 * MiB)
    head = m.a.s3.head_object(Bucket=m.a.bucket, Key=m.a.key(ACTOR, "aws/eight.bin"))
    assert head["ContentLength"] == 17 * MiB

    first = sync(m.a)

    assert first.errors == [] and first.conflicts == []
    assert first.counts.downloaded == 2
    for path, data in foreign.items():
        assert m.a.read_local(ACTOR, path) == data, path
    # With SSE-KMS no MD5 of a foreign multipart object can be known: "unverified", said.
    expected_unverified = sorted(foreign) if m.target.has(ETAG_NOT_MD5) else []
    assert sorted(first.unverified) == expected_unverified

    again = sync(m.a)

    assert again.errors == [] and again.counts.total == 0, again.counts
    assert again.bytes_downloaded == 0


def test_folder_markers_at_the_prefix_and_below_are_ignored(matrix: Matrix) -> None:
    # What the S3 console's "Create folder" makes: a zero-byte key ending in "/", here at
    # the actor's prefix itself (every sync of the actor exited 1 before, issue 22 item 6).
    m = matrix
    prefix = m.a.settings.prefix_for(ACTOR)
    files = seeded(m)
    try:
        for key in (prefix, prefix + "images/", prefix + "empty/"):
            m.a.s3.put_object(Bucket=m.a.bucket, Key=key, Body=b"")
    except botocore.exceptions.ClientError as exc:  # nanio: "may not contain empty segments"
        pytest.skip(f"{m.target.name} stores no folder markers: {exc}")

    audit = sync(m.a, dry_run=True)
    report = sync(m.b)

    assert audit.errors == [] and audit.counts.total == 0, (audit.errors, audit.counts)
    assert audit.in_sync == len(files)
    assert report.errors == [] and report.counts.downloaded == len(files), report.errors
    assert m.b.local_paths(ACTOR) == sorted(files)
    assert m.b.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    assert {prefix, prefix + "images/"} <= set(m.a.s3_keys(prefix))  # never deleted by us


def listing(m: Matrix, prefixes: list[str]) -> FleetListing:
    root = m.a.settings.actors_prefix
    found = start_fleet_listing(m.a.s3, m.a.bucket, root, prefixes, workers=2, page=60)
    assert found is not None
    return found


def test_a_fleet_listing_in_sized_pages_gives_each_actor_its_own_listing(matrix: Matrix) -> None:
    # Key ranges whose pages shrink near their ends (MaxKeys below 1,000, StartAfter and
    # ContinuationToken together) read the same on every server as one actor's own listing.
    m = matrix
    names = [f"{n:04d}_fleet" for n in range(100)]
    for name in names:
        for path in ("a.bin", "d/b.bin"):
            m.a.s3.put_object(Bucket=m.a.bucket, Key=m.a.key(name, path), Body=name.encode())
    prefixes = [m.a.settings.prefix_for(name) for name in names]
    if m.target.has(S3RVER_MAX_KEYS_1):  # no page but the last: each actor lists its own
        with pytest.raises(botocore.exceptions.ClientError, match="InternalError"):
            listing(m, prefixes).result()
        return

    fleet = listing(m, prefixes).result()

    assert fleet is not None and sorted(fleet) == sorted(prefixes)
    for prefix in prefixes:
        assert sorted(fleet[prefix].objects) == ["a.bin", "d/b.bin"], prefix
    for prefix in (prefixes[0], prefixes[49], prefixes[50], prefixes[-1]):
        assert fleet[prefix].objects == scan_remote(m.a.s3, m.a.bucket, prefix).objects
