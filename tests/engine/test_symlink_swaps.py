"""A folder under training_data/ swapped for a symbolic link at any moment of a sync: every
write below the actor folder (mkdir, the link or rename of a download into place, a second
name, the move to the trash, the backup link) goes through folders opened without following
links, so that one path fails with one line and nothing is written or moved outside
(issue 22 item 4: a download landed outside the actor folder, exit 0)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World, md5
from trainsync_tui.engine.events import Event, Stage
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.build import ConflictPolicy
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

ACTOR = "0042_european_30_male"


def swap_for_link(world: World, folder: str, outside: Path) -> Callable[[], None]:
    """Move training_data/<folder> away and put a link to `outside` in its place."""

    def swap() -> None:
        path = world.actor_dir(ACTOR) / "training_data" / folder
        path.rename(path.with_name(path.name + ".moved"))
        path.symlink_to(outside, target_is_directory=True)

    return swap


def sync_swapping(
    world: World,
    swap: Callable[[], None],
    *,
    when: str,
    options: SyncOptions | None = None,
    during: str = "",
) -> SyncReport:
    """Sync once, running `swap` when S3 has answered the GET of the key ending in `during`
    (after the executor checked and made its folders, before it lands: in that download's
    own thread, so the swap is whole before the landing looks, where a swap made from
    another download's thread could be caught half done, the folder gone and no link yet)
    or when the transfer stage begins."""
    engine = Engine(world.settings)
    done: list[bool] = []

    def once() -> None:
        if not done:
            done.append(True)
            swap()

    def after_get(http_response: Any, **_: Any) -> None:
        url = http_response.url
        if not url.endswith(LEASE_SUFFIX) and url.endswith(during):
            once()

    def sink(event: Event) -> None:
        if when == "transfer" and isinstance(event, Stage) and event.stage == "transfer":
            once()

    if when == "get":
        engine.client.meta.events.register("after-call.s3.GetObject", after_get)
    try:
        report = engine.sync(engine.actor(ACTOR), options or SyncOptions(), sink=sink)
    finally:
        engine.close()
    assert done, "the swap never ran"
    return report


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "theirs.txt").write_bytes(b"not trainsync's")
    return folder


def outside_is_untouched(outside: Path) -> None:
    assert sorted(os.listdir(outside)) == ["theirs.txt"]
    assert (outside / "theirs.txt").read_bytes() == b"not trainsync's"


@pytest.mark.parametrize("existing", [False, True], ids=["new file: link", "replace: rename"])
def test_a_folder_swapped_during_a_download_fails_that_path_and_writes_nothing_outside(
    world: World, outside: Path, existing: bool
) -> None:
    world.put_s3(ACTOR, "sub/x.bin", b"from S3")
    world.put_s3(ACTOR, "ok.bin", b"fine")
    if existing:  # the local copy is what the manifest says; S3 has a newer one
        world.put_local(ACTOR, "sub/x.bin", b"old")
        world.write_manifest(ACTOR, {"sub/x.bin": b"old"})

    swap = swap_for_link(world, "sub", outside)
    report = sync_swapping(world, swap, when="get", during="sub/x.bin")

    failed = [e for e in report.errors if e.startswith("sub/x.bin")]
    assert len(failed) == 1 and "symbolic link" in failed[0], report.errors
    outside_is_untouched(outside)
    assert world.read_local(ACTOR, "ok.bin") == b"fine"
    assert "sub/x.bin" not in world.manifest_md5s(ACTOR) or existing
    if existing:
        assert world.manifest_md5s(ACTOR)["sub/x.bin"] == md5(b"old")


def test_a_folder_swapped_before_the_trash_move_moves_nothing_from_outside(
    world: World, outside: Path
) -> None:
    # --delete-orphans: sub/orphan.bin goes to the trash. Through the swapped link, a rename
    # by path would have moved outside/orphan.bin (someone else's file) into our trash.
    (outside / "orphan.bin").write_bytes(b"same size")
    world.put_local(ACTOR, "sub/orphan.bin", b"same size")
    world.put_local(ACTOR, "keep.bin", b"kept")
    world.write_manifest(ACTOR, {"keep.bin": b"kept"})
    world.put_s3(ACTOR, "keep.bin", b"kept")
    swap = swap_for_link(world, "sub", outside)

    report = sync_swapping(
        world, swap, when="transfer", options=SyncOptions(delete_orphans=True, force=True)
    )

    assert report.counts.deleted_local == 0
    assert any(e.startswith("sub/orphan.bin") for e in report.errors), report.errors
    assert sorted(os.listdir(outside)) == ["orphan.bin", "theirs.txt"]
    assert (outside / "orphan.bin").read_bytes() == b"same size"


def test_a_folder_swapped_before_a_backup_or_second_name_writes_nothing_outside(
    world: World, outside: Path
) -> None:
    # A conflict kept both ways: the local copy gets a second name beside it and S3's
    # version lands in its place, with the local one linked into the trash first.
    world.put_local(ACTOR, "sub/c.bin", b"local edit")
    world.put_s3(ACTOR, "sub/c.bin", b"s3 edit!!!")
    world.write_manifest(ACTOR, {"sub/c.bin": b"recorded"})
    (outside / "c.bin").write_bytes(b"local edit")

    report = sync_swapping(
        world,
        swap_for_link(world, "sub", outside),
        when="transfer",
        options=SyncOptions(conflict=ConflictPolicy.S3),
    )

    assert any(e.startswith("sub/c.bin") for e in report.errors), report.errors
    assert sorted(os.listdir(outside)) == ["c.bin", "theirs.txt"]
    assert (outside / "c.bin").read_bytes() == b"local edit"
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash"
    assert not trash.exists() or not [p for p in trash.rglob("*") if p.is_file()]
