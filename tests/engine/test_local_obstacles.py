"""Something local in the way of an S3 object (a FIFO or device, a link to a folder, a file
where a folder would be): one clear line per path, nothing written, and a second sync says
the same and changes nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, snapshot
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.run.report import SyncReport


def sync_twice(world: World) -> tuple[list[str], SyncReport]:
    """Two syncs: the second must say what the first said and change nothing (local files,
    S3, manifest). The first's errors, sorted, and its report."""
    eng = world.engine()
    try:
        first = eng.sync(eng.actor(ACTOR), SyncOptions())
        before = snapshot(world)
        second = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()
    assert sorted(second.errors) == sorted(first.errors)
    assert second.changed == 0 and snapshot(world) == before
    return sorted(first.errors), first


def make_fifo(path: str) -> None:
    os.mkfifo(path)


def make_device(path: str) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot make a device file here (needs root)")


@pytest.mark.parametrize(
    ("make", "kind"),
    [(make_fifo, "a FIFO (named pipe)"), (make_device, "a character device")],
    ids=["fifo", "device"],
)
def test_special_file_with_the_name_of_an_s3_object(
    world: World, make: Callable[[str], None], kind: str
) -> None:
    world.put_s3(ACTOR, "pipe.bin", b"from s3")
    world.put_local(ACTOR, "other.bin", b"other")
    make(str(world.local_path(ACTOR, "pipe.bin")))

    errors, _ = sync_twice(world)

    line = (
        f"pipe.bin: is {kind} locally, so the S3 object is not downloaded over it; "
        "remove or rename it to get the S3 file"
    )
    assert errors == [line]
    mode = os.lstat(world.local_path(ACTOR, "pipe.bin")).st_mode
    assert not stat.S_ISREG(mode)
    assert "pipe.bin" not in world.manifest_md5s(ACTOR)


KEEP = b"a local file, to keep"


def link_to_a_folder(world: World) -> None:
    world.put_local(ACTOR, "real/keep.bin", KEEP)
    world.local_path(ACTOR, "linkdir").symlink_to("real")


def a_file(world: World) -> None:
    world.put_local(ACTOR, "a.bin", KEEP)


@pytest.mark.parametrize(
    ("make", "local_file", "parent", "why"),
    [
        (
            link_to_a_folder,
            "real/keep.bin",
            "linkdir",
            "its folder linkdir/ is a symbolic link locally, so it is not downloaded through "
            "it; replace the link with a real folder, or move the S3 object to the folder the "
            "link points to",
        ),
        (
            a_file,
            "a.bin",
            "a.bin",
            "a.bin is a file locally, so nothing can be downloaded under it; rename the local "
            "file or the S3 object",
        ),
    ],
    ids=["under a link to a folder", "under a file"],
)
def test_s3_keys_under_a_local_path_that_is_no_folder_are_not_downloaded(
    world: World, make: Callable[[World], None], local_file: str, parent: str, why: str
) -> None:
    make(world)
    keys = [f"{parent}/deeper/y.bin", f"{parent}/x.bin"]
    for key in keys:
        world.put_s3(ACTOR, key, b"wants a folder here")

    errors, first = sync_twice(world)

    assert errors == [f"{key}: {why}" for key in keys]
    assert first.counts.uploaded == 1  # the local file syncs as ever
    assert world.local_paths(ACTOR) == [local_file]  # nothing landed through a link
    assert world.read_local(ACTOR, local_file) == KEEP
    assert world.s3_paths(ACTOR) == sorted([*keys, local_file])


def test_s3_object_named_like_a_local_link_to_a_folder(world: World) -> None:
    world.put_local(ACTOR, "real/keep.bin", b"keep")
    world.local_path(ACTOR, "linkdir").symlink_to("real")
    world.put_s3(ACTOR, "linkdir", b"an object, where the link is")

    errors, _ = sync_twice(world)

    line = (
        "linkdir: is a symbolic link to a folder locally, so the S3 object is not downloaded "
        "over it; remove or rename the link to get the S3 file"
    )
    assert errors == [line]
    assert os.path.islink(world.local_path(ACTOR, "linkdir"))


def test_a_dry_run_reports_what_stands_in_the_way_instead_of_a_download(world: World) -> None:
    world.put_local(ACTOR, "real/keep.bin", b"keep")
    world.put_local(ACTOR, "a.bin", b"a file")
    world.local_path(ACTOR, "linkdir").symlink_to("real")
    make_fifo(str(world.local_path(ACTOR, "pipe.bin")))
    for path in ("pipe.bin", "linkdir/x.bin", "a.bin/x", "fresh.bin"):
        world.put_s3(ACTOR, path, b"from s3")

    eng = world.engine()
    try:
        dry = eng.sync(eng.actor(ACTOR), SyncOptions(dry_run=True))
        real = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    # The preview names the same paths, in the same words, as the sync that follows it,
    # and counts only the download that can happen.
    assert sorted(dry.errors) == sorted(real.errors)
    assert [e.split(":")[0] for e in sorted(dry.errors)] == ["a.bin/x", "linkdir/x.bin", "pipe.bin"]
    assert dry.counts.downloaded == 1 and real.counts.downloaded == 1
    assert world.read_local(ACTOR, "fresh.bin") == b"from s3"
