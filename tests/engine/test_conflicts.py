"""Each conflict policy end to end: who wins, what is kept, what the manifest says."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, counts, sync_json

LOCAL, REMOTE, RECORDED = b"local version", b"s3 version!!", b"recorded"


def conflict(world: World, *, local_newer: bool) -> None:
    world.put_s3(ACTOR, "img/x.png", REMOTE)
    path = world.put_local(ACTOR, "img/x.png", LOCAL)
    when = time.time() + 3600 if local_newer else 1_000_000
    os.utime(path, (when, when))
    world.write_manifest(ACTOR, {"img/x.png": RECORDED})


def test_skip_reports_the_conflict_and_exits_one(world: World, capsys) -> None:
    conflict(world, local_newer=True)
    code, report = sync_json(world, capsys)
    assert code == 1
    assert report["conflicts"] == [
        {
            "path": "img/x.png",
            "local_md5": md5(LOCAL),
            "local_size": len(LOCAL),
            "s3_md5": md5(REMOTE),
            "s3_size": len(REMOTE),
            "manifest_md5": md5(RECORDED),
        }
    ]
    assert sum(counts(report).values()) == 0
    assert world.read_local(ACTOR, "img/x.png") == LOCAL
    assert world.read_s3(ACTOR, "img/x.png") == REMOTE
    assert world.manifest_md5s(ACTOR) == {"img/x.png": md5(RECORDED)}


@pytest.mark.parametrize(
    ("policy", "local_newer", "winner"),
    [
        ("local", False, LOCAL),
        ("s3", True, REMOTE),
        ("newer", True, LOCAL),
        ("newer", False, REMOTE),
    ],
)
def test_policy_picks_the_winner_and_keeps_the_loser_recoverable(
    world: World, capsys, policy: str, local_newer: bool, winner: bytes
) -> None:
    conflict(world, local_newer=local_newer)
    code, report = sync_json(world, capsys, "--conflict", policy)
    assert code == 0, report
    assert report["conflicts"] == []
    assert world.read_local(ACTOR, "img/x.png") == winner
    assert world.read_s3(ACTOR, "img/x.png") == winner
    assert world.manifest_md5s(ACTOR) == {"img/x.png": md5(winner)}
    assert report["updated_in_manifest"] == 1
    if winner == LOCAL:
        assert report["uploaded"] == 1
        trash = [k for k in world.s3_keys("trainsync-trash/") if k.endswith("img/x.png")]
        assert len(trash) == 1
        assert world.s3.get_object(Bucket=world.bucket, Key=trash[0])["Body"].read() == REMOTE
    else:
        assert report["downloaded"] == 1
        kept = list((world.actor_dir(ACTOR) / ".trainsync" / "trash").rglob("x.png"))
        assert [p.read_bytes() for p in kept] == [LOCAL]


@pytest.mark.parametrize("local_newer", [True, False], ids=["local wins", "s3 wins"])
def test_keep_both_keeps_the_loser_beside_the_winner(
    world: World, capsys, local_newer: bool
) -> None:
    conflict(world, local_newer=local_newer)
    code, report = sync_json(world, capsys, "--conflict", "keep-both")
    assert code == 0, report
    winner, loser = (LOCAL, REMOTE) if local_newer else (REMOTE, LOCAL)
    side = "s3" if local_newer else "local"
    names = world.local_paths(ACTOR)
    assert len(names) == 2 and "img/x.png" in names
    (copy,) = [n for n in names if n != "img/x.png"]
    assert copy.startswith(f"img/x.conflict-{side}-") and copy.endswith(".png")
    assert world.s3_paths(ACTOR) == sorted(names)
    for name, data in (("img/x.png", winner), (copy, loser)):
        assert world.read_local(ACTOR, name) == data
        assert world.read_s3(ACTOR, name) == data
    assert world.manifest_md5s(ACTOR) == {"img/x.png": md5(winner), copy: md5(loser)}
    assert report["added_to_manifest"] == 1 and report["updated_in_manifest"] == 1
    again, second = sync_json(world, capsys)
    assert again == 0 and sum(counts(second).values()) == 0


def test_history_records_per_file_conflict_choices(world: World) -> None:
    from trainsync_tui.engine.facade import SyncOptions
    from trainsync_tui.engine.plan.build import ConflictPolicy

    conflict(world, local_newer=True)
    engine = world.engine()
    options = SyncOptions(resolutions={"img/x.png": ConflictPolicy.KEEP_BOTH})
    report = engine.sync(engine.actor(ACTOR), options)
    assert report.conflicts == []
    recorded = engine.history(ACTOR)[0].options
    assert recorded["conflict"] == "skip"  # the default for files with no choice
    assert recorded["conflict_choices"] == {"keep-both": 1}
