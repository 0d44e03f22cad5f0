"""The local trash keeps every copy it is given."""

from __future__ import annotations

from tests.conftest import World
from tests.engine.clitools import ACTOR
from trainsync_tui.engine.facade import SyncOptions


def test_a_second_trashing_in_the_same_second_keeps_the_first_copy(world: World) -> None:
    eng = world.engine(clock=lambda: 1_800_000_000.0)  # both runs get one trash stamp
    try:
        for data in (b"first orphan", b"second orphan"):
            world.put_local(ACTOR, "o.bin", data)
            report = eng.sync(eng.actor(ACTOR), SyncOptions(delete_orphans=True, force=True))
            assert report.counts.deleted_local == 1
    finally:
        eng.close()

    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash"
    kept = sorted(p.read_bytes() for p in trash.rglob("o.bin*"))
    assert kept == [b"first orphan", b"second orphan"]
