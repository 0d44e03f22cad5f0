"""A local file edited, created or removed while its download runs is the user's: the rename
must not replace it, and the manifest must not record the bytes that were not kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import World, md5
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

ACTOR = "0042_european_30_male"
MiB = 1024 * 1024


def sync_editing_mid_download(
    world: World, edit: Callable[[], None], *, multipart: bool = False
) -> SyncReport:
    """Sync once; `edit` runs when S3 has answered the first GET of an object, that is after
    the executor checked the local file and before the body is written and renamed."""
    settings = world.settings
    if multipart:
        settings = dataclasses.replace(
            settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB
        )
    eng = Engine(settings)
    calls: list[str] = []

    def after_get(http_response: Any, **_: Any) -> None:
        # The S3 lease is read with a GET too: only the actor's data counts.
        if not calls and not http_response.url.endswith(LEASE_SUFFIX):
            calls.append("edited")
            edit()

    eng.client.meta.events.register("after-call.s3.GetObject", after_get)
    try:
        report = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()
    assert calls == ["edited"], "the download never reached S3"
    return report


def leftover_temps(world: World) -> list[str]:
    top = world.actor_dir(ACTOR)
    return [str(p) for p in top.rglob(".trainsync-tmp-*")]


@pytest.mark.parametrize("multipart", [False, True], ids=["single get", "multipart"])
def test_file_edited_during_its_download_is_kept(world: World, multipart: bool) -> None:
    size = 6 * MiB if multipart else 100
    old, new = b"o" * size, b"n" * size
    world.put_local(ACTOR, "a.bin", old)
    world.write_manifest(ACTOR, {"a.bin": old})
    world.put_s3(ACTOR, "a.bin", new, multipart=multipart)

    report = sync_editing_mid_download(
        world, lambda: world.put_local(ACTOR, "a.bin", b"the user's edit"), multipart=multipart
    )

    assert report.errors == ["a.bin: changed locally during the download; kept, sync again"]
    assert report.counts.downloaded == 0
    assert world.read_local(ACTOR, "a.bin") == b"the user's edit"
    assert world.manifest_md5s(ACTOR) == {"a.bin": md5(old)}
    assert leftover_temps(world) == []


def test_new_path_created_during_its_download_is_kept(world: World) -> None:
    world.put_s3(ACTOR, "n.bin", b"from s3")

    report = sync_editing_mid_download(
        world, lambda: world.put_local(ACTOR, "n.bin", b"written meanwhile")
    )

    assert report.errors == ["n.bin: created locally during the download; kept, sync again"]
    assert world.read_local(ACTOR, "n.bin") == b"written meanwhile"
    assert world.manifest_md5s(ACTOR) == {}
    assert leftover_temps(world) == []


def test_file_removed_during_its_download_is_not_restored(world: World) -> None:
    world.put_local(ACTOR, "a.bin", b"old")
    world.write_manifest(ACTOR, {"a.bin": b"old"})
    world.put_s3(ACTOR, "a.bin", b"new in s3")

    report = sync_editing_mid_download(world, lambda: world.local_path(ACTOR, "a.bin").unlink())

    assert report.errors == ["a.bin: removed locally during the download; not restored, sync again"]
    assert world.local_paths(ACTOR) == []
    assert world.manifest_md5s(ACTOR) == {"a.bin": md5(b"old")}
    assert leftover_temps(world) == []


def test_the_next_sync_sees_the_edit_as_a_conflict_not_a_download(world: World) -> None:
    world.put_local(ACTOR, "a.bin", b"old")
    world.write_manifest(ACTOR, {"a.bin": b"old"})
    world.put_s3(ACTOR, "a.bin", b"new in s3")
    sync_editing_mid_download(world, lambda: world.put_local(ACTOR, "a.bin", b"edited"))

    eng = world.engine()
    try:
        report = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    assert [c.path for c in report.conflicts] == ["a.bin"]
    assert world.read_local(ACTOR, "a.bin") == b"edited"
    assert world.read_s3(ACTOR, "a.bin") == b"new in s3"
