"""The demo a new user opens first: embedded loopback S3 and actors in every state."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainsync_tui.demo import setup_demo
from trainsync_tui.engine.api import Engine, SyncOptions


@pytest.fixture
def demo(tmp_path: Path):
    settings, server = setup_demo(tmp_path / "demo")
    yield settings
    server.stop()


def test_demo_serves_actors_in_every_state_on_loopback(demo) -> None:
    assert demo.endpoint_url.startswith("http://127.0.0.1:")
    engine = Engine(demo)
    names = engine.actor_names()
    assert "0044_african_40_male" in names  # only in S3
    assert "0045_latin_35_female" in names  # only local
    first = engine.sync(engine.actor("0042_european_30_male"), SyncOptions(dry_run=True))
    counts = first.to_json()
    for key in ("uploaded", "downloaded", "added_to_manifest", "updated_in_manifest",
                "removed_from_manifest"):
        assert counts[key] > 0, key
    assert [c["path"] for c in first.conflicts] == ["text/conflict.txt"]
    assert first.unverified == ["video/big_clip.mp4"]
    broken = engine.sync(engine.actor("0046_nordic_50_female"), SyncOptions(dry_run=True))
    assert "not valid JSON" in broken.errors[0]
    hostile = engine.sync(engine.actor("0047_mixed_28_male"), SyncOptions(dry_run=True))
    assert any(e.startswith("../escape.txt") for e in hostile.errors)


def test_demo_actor_converges_after_one_sync(demo) -> None:
    engine = Engine(demo)
    actor = engine.actor("0042_european_30_male")
    engine.sync(actor, SyncOptions(conflict="keep-both"))
    again = engine.sync(actor, SyncOptions())
    assert again.changed == 0
    assert again.errors == [] and again.conflicts == []
    assert again.in_sync == again.total_files
