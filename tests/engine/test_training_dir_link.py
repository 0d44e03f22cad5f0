"""A training_data/ that is a symbolic link: followed when it points at a folder of its own
(data on another disk), refused when it leads nowhere, into the actors folder, or to a folder
holding the actor's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR
from trainsync_tui.cli import main
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.facade import SyncOptions

OTHER = "0043_other_actor"


def link_training_data(world: World, target: Path, actor: str = ACTOR) -> Path:
    world.actor_dir(actor).mkdir(parents=True, exist_ok=True)
    link = world.actor_dir(actor) / "training_data"
    link.symlink_to(target, target_is_directory=True)
    return link


def test_a_linked_training_data_is_followed_both_ways(world: World, tmp_path: Path) -> None:
    disk = tmp_path / "other_disk" / "data"
    (disk / "sub").mkdir(parents=True)
    (disk / "sub" / "up.bin").write_bytes(b"uploaded from the linked folder")
    link_training_data(world, disk)
    world.put_s3(ACTOR, "down/d.bin", b"downloaded into the linked folder")

    eng = world.engine()
    try:
        audit = eng.audit(eng.actor(ACTOR))
        report = eng.sync(eng.actor(ACTOR), SyncOptions())
        again = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    assert sorted(audit.listings.local) == ["sub/up.bin"]
    assert report.errors == []
    assert report.counts.uploaded == 1 and report.counts.downloaded == 1
    assert world.read_s3(ACTOR, "sub/up.bin") == b"uploaded from the linked folder"
    assert (disk / "down" / "d.bin").read_bytes() == b"downloaded into the linked folder"
    assert world.local_path(ACTOR, "").is_symlink()  # still a link, not replaced by a folder
    assert world.manifest_md5s(ACTOR) == {
        "sub/up.bin": md5(b"uploaded from the linked folder"),
        "down/d.bin": md5(b"downloaded into the linked folder"),
    }
    assert again.changed == 0 and again.errors == []
    assert not list(disk.rglob(".trainsync-tmp-*"))


def test_a_link_into_another_actor_is_refused(world: World, tmp_path: Path) -> None:
    world.put_local(OTHER, "theirs.bin", b"the other actor's file")
    world.put_s3(ACTOR, "mine.bin", b"would land in the other actor")
    link_training_data(world, world.actor_dir(OTHER) / "training_data")

    eng = world.engine()
    try:
        with pytest.raises(TrainsyncError) as raised:
            eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()

    assert str(raised.value).startswith(
        f"{ACTOR}: training_data is a symbolic link into the actors folder ("
    )
    assert str(raised.value).endswith(
        "so two actors would share files; point it at a folder of its own"
    )
    assert world.local_paths(OTHER) == ["theirs.bin"]
    assert world.s3_paths(ACTOR) == ["mine.bin"]
    assert not (world.actor_dir(ACTOR) / "manifest.json").exists()


def test_a_dangling_link_is_refused_not_read_as_an_empty_tree(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_s3(ACTOR, "a.bin", b"a")
    world.write_manifest(ACTOR, {"a.bin": b"a"})
    link_training_data(world, tmp_path / "unmounted_disk")

    code = main(["sync", ACTOR, *world.cli_flags()])

    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"{ACTOR}: training_data is a symbolic link to {tmp_path}/unmounted_disk, "
        "which is not a folder; mount it or fix the link"
    ) in err
    assert "Traceback" not in err
    assert world.manifest_md5s(ACTOR) == {"a.bin": md5(b"a")}
    assert world.s3_paths(ACTOR) == ["a.bin"]
    assert not (tmp_path / "unmounted_disk").exists()


def test_a_link_to_a_folder_holding_the_actor_is_refused(world: World) -> None:
    world.put_s3(ACTOR, "a.bin", b"a")
    link_training_data(world, world.root)

    eng = world.engine()
    try:
        with pytest.raises(TrainsyncError, match="which holds the actor's own folder"):
            eng.audit(eng.actor(ACTOR))
    finally:
        eng.close()
