"""Selective sync end to end: only the chosen part of the plan runs, the rest stays pending."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, counts, sync_json
from trainsync_tui.cli import main
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.plan.build import Category
from trainsync_tui.engine.plan.select import Selection


def mixed(world: World) -> None:
    world.put_local(ACTOR, "images/up.png", b"up")
    world.put_local(ACTOR, "audio/up.wav", b"wav")
    world.put_s3(ACTOR, "images/down.png", b"down")
    world.put_s3(ACTOR, "labels/down.json", b"{}")


def test_only_and_exclude_globs_through_the_cli(world: World, capsys) -> None:
    mixed(world)
    code, report = sync_json(world, capsys, "--only", "images", "--exclude", "*/down.png")
    assert code == 0
    assert counts(report)["uploaded"] == 1 and counts(report)["downloaded"] == 0
    assert world.s3_paths(ACTOR) == ["images/down.png", "images/up.png", "labels/down.json"]
    assert world.local_paths(ACTOR) == ["audio/up.wav", "images/up.png"]
    assert set(world.manifest_md5s(ACTOR)) == {"images/up.png"}


@pytest.mark.parametrize(("direction", "uploaded", "downloaded"), [("up", 2, 0), ("down", 0, 2)])
def test_direction_is_the_old_one_way_button(
    world: World, capsys, direction: str, uploaded: int, downloaded: int
) -> None:
    mixed(world)
    before_local, before_s3 = world.local_paths(ACTOR), world.s3_paths(ACTOR)
    code, report = sync_json(world, capsys, "--direction", direction)
    assert code == 0
    assert (report["uploaded"], report["downloaded"]) == (uploaded, downloaded)
    if direction == "up":
        assert world.local_paths(ACTOR) == before_local
    else:
        assert world.s3_paths(ACTOR) == before_s3
    _, rest = sync_json(world, capsys)
    assert (rest["uploaded"], rest["downloaded"]) == (2 - uploaded, 2 - downloaded)


def test_engine_selects_by_path_folder_and_category(world: World) -> None:
    mixed(world)
    world.write_manifest(ACTOR, {"gone.bin": b"gone"})
    eng = world.engine()
    layout = eng.actor(ACTOR)
    by_path = eng.sync(layout, SyncOptions(selection=Selection(paths={"labels/", "audio/up.wav"})))
    assert (by_path.counts.uploaded, by_path.counts.downloaded) == (1, 1)
    by_category = eng.sync(
        layout, SyncOptions(selection=Selection(categories={Category.REMOVE_FROM_MANIFEST}))
    )
    assert by_category.counts.removed_from_manifest == 1
    assert by_category.counts.uploaded == by_category.counts.downloaded == 0
    eng.close()
    assert world.s3_paths(ACTOR) == [
        "audio/up.wav",
        "images/down.png",
        "labels/down.json",
    ]


def test_bad_usage_exits_two(world: World, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["sync", ACTOR, "--conflict", "bogus", *world.cli_flags()])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
