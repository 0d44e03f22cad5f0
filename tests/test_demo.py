"""The demo a new user opens first: embedded loopback S3 and actors in every state."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from trainsync_tui.demo import setup_demo
from trainsync_tui.engine.facade import Engine, SyncOptions


@pytest.fixture
def demo(tmp_path: Path):
    settings, server = setup_demo(tmp_path / "demo")
    yield settings
    # Threaded moto servers in one process share one store: leave it empty for the next demo.
    reset = urllib.request.Request(f"{settings.endpoint_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    server.stop()


def test_demo_serves_actors_in_every_state_on_loopback(demo) -> None:
    assert demo.endpoint_url.startswith("http://127.0.0.1:")
    engine = Engine(demo)
    names = engine.actor_names()
    assert "0044_african_40_male" in names  # only in S3
    assert "0045_latin_35_female" in names  # only local
    first = engine.sync(engine.actor("0042_european_30_male"), SyncOptions(dry_run=True))
    counts = first.to_json()
    for key in (
        "uploaded",
        "downloaded",
        "added_to_manifest",
        "updated_in_manifest",
        "removed_from_manifest",
    ):
        assert counts[key] > 0, key
    assert [c.path for c in first.conflicts] == ["text/conflict.txt"]
    assert first.unverified == [] and first.verified_on_transfer == ["video/big_clip.mp4"]
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


def test_the_seeds_command_line_works_as_written_in_the_demo_folder(
    demo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainsync_tui.cli import main

    monkeypatch.chdir(demo.root)  # its trainsync.toml names the bucket and the endpoint
    code = main(["sync", "0042", "0042_european_30_male", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1  # the demo's conflict is left for the user to resolve
    assert out.startswith("0042_european_30_male: dry run — would have: 3 uploaded")
