"""Foreign multipart objects on a server that hides their part size (nanio answers
`HEAD ?partNumber=1` with 200 and the whole object): checked with the part sizes their ETag
allows, kept as unverified when none fits, never refused and never fetched again."""

from __future__ import annotations

import hashlib

from tests.conftest import World, md5
from tests.engine.nanio_world import (  # noqa: F401 (fixtures)
    MiB,
    nanio_fixture,
    nanio_world_fixture,
    put_foreign,
)
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.partsize import candidate_part_sizes, object_part_sizes
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.resumable_get import Partial

ACTOR = "0015_nanio_parts"


def data(seed: str, size: int) -> bytes:
    block = hashlib.sha256(seed.encode()).digest() * (MiB // 32)
    return (block * (size // MiB + 1))[: size - 8] + seed.encode()[:8].ljust(8, b".")


FILES = {
    # (part size written with, file size): 3 parts of 8 MiB, 2 of 16, 3 of 5.
    "parts8.bin": (8 * MiB, 17 * MiB + 123),
    "parts16.bin": (16 * MiB, 17 * MiB + 7),
    "parts5.bin": (5 * MiB, 11 * MiB),
}


def put_all(world: World) -> dict[str, bytes]:
    contents = {}
    for path, (part, size) in FILES.items():
        contents[path] = data(path, size)
        put_foreign(world, ACTOR, path, contents[path], part)
    return contents


def sync_twice(world: World) -> tuple[SyncReport, SyncReport]:
    """Two syncs of the actor in a row, through one engine."""
    engine = world.engine()
    try:
        return engine.sync(engine.actor(ACTOR)), engine.sync(engine.actor(ACTOR))
    finally:
        engine.close()


def test_the_server_hides_part_sizes_and_candidates_are_tried(nanio_world: World) -> None:
    world = nanio_world
    put_all(world)
    for path, (part, size) in FILES.items():
        etag = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, path))["ETag"]
        sizes = object_part_sizes(world.s3, world.bucket, world.key(ACTOR, path), size, etag)
        assert not sizes.known and part in sizes.sizes, (path, sizes)


def test_candidate_part_sizes_give_the_etags_part_count() -> None:
    assert candidate_part_sizes(17 * MiB, 3) == (6 * MiB, 8 * MiB)
    assert candidate_part_sizes(17 * MiB, 2) == (9 * MiB, 15 * MiB, 16 * MiB)
    assert candidate_part_sizes(17 * MiB, 3, hint=7 * MiB)[0] == 7 * MiB
    assert candidate_part_sizes(5, 0) == ()


def test_audit_finds_foreign_multipart_files_in_sync_with_their_local_copies(
    nanio_world: World,
) -> None:
    world = nanio_world
    for path, content in put_all(world).items():
        world.put_local(ACTOR, path, content)
    engine = world.engine()
    try:
        plan = engine.plan(engine.audit(engine.actor(ACTOR)), SyncOptions())
        assert plan.conflicts == () and plan.issues == () and plan.unverified == ()
        assert {a.path: str(a.category) for a in plan.actions} == dict.fromkeys(
            FILES, "add_to_manifest"
        )
        report = engine.sync(engine.actor(ACTOR))
    finally:
        engine.close()
    assert report.errors == [] and report.conflicts == []
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in put_all(world).items()}


def test_download_of_foreign_multipart_files_is_accepted(nanio_world: World) -> None:
    world = nanio_world
    contents = put_all(world)
    report, again = sync_twice(world)
    assert report.errors == [] and report.unverified == []
    assert report.counts.downloaded == 3
    for path, content in contents.items():
        assert world.read_local(ACTOR, path) == content
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in contents.items()}
    assert again.changed == 0 and again.errors == [] and again.conflicts == []


def test_an_object_no_part_size_fits_is_kept_unverified_and_not_fetched_again(
    nanio_world: World,
) -> None:
    """9 MiB parts: neither size/N rounded up (7 MiB) nor a usual size gives its ETag."""
    world = nanio_world
    content = data("odd", 19 * MiB)
    put_foreign(world, ACTOR, "odd.bin", content, 9 * MiB)
    report, again = sync_twice(world)
    assert report.errors == [] and report.counts.downloaded == 1
    assert report.unverified == ["odd.bin"]
    assert world.read_local(ACTOR, "odd.bin") == content
    assert again.changed == 0 and again.errors == [] and again.conflicts == []
    assert again.bytes_downloaded == 0
    # Every run says so; it is never "in sync" (issue 22 item 5: it was, from the second on).
    assert again.unverified == ["odd.bin"]
    engine = world.engine()
    try:
        dry = engine.sync(engine.actor(ACTOR), SyncOptions(dry_run=True))
    finally:
        engine.close()
    assert dry.unverified == ["odd.bin"] and dry.in_sync == 0
    # The manifest says how it knows this MD5.
    assert world.manifest(ACTOR)["files"]["odd.bin"]["md5_source"] == "unverified download"


def test_kept_bytes_of_an_object_nothing_can_verify_are_not_resumed(
    nanio_world: World,
) -> None:
    """A kill -9 mid-download left bytes that were changed on disk since: with no MD5 and no
    part size to check the whole file by, they would land as the object's bytes (issue 22
    item 5). The download starts again from byte 0 instead."""
    world = nanio_world
    content = data("odd", 19 * MiB)
    put_foreign(world, ACTOR, "odd.bin", content, 9 * MiB)
    key = world.key(ACTOR, "odd.bin")
    etag = world.s3.head_object(Bucket=world.bucket, Key=key)["ETag"].strip('"')
    folder = world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial"
    folder.mkdir(parents=True)
    kept = Partial.of(folder, key)
    tampered = bytearray(content[: 12 * MiB])
    tampered[5 * MiB : 5 * MiB + 4096] = b"\xff" * 4096
    kept.data.write_bytes(bytes(tampered))
    kept.keep(RemoteObject("odd.bin", key, len(content), etag, 0, None), [(0, 12 * MiB)])
    engine = world.engine()
    try:
        report = engine.sync(engine.actor(ACTOR))
    finally:
        engine.close()
    assert report.errors == [] and report.counts.downloaded == 1
    assert report.bytes_resumed == 0 and report.unverified == ["odd.bin"]
    assert world.read_local(ACTOR, "odd.bin") == content
    assert world.manifest_md5s(ACTOR) == {"odd.bin": md5(content)}
