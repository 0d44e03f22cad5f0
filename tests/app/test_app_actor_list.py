"""The app's actor list: an S3 folder skipped for its name is a warning in the live log."""

from __future__ import annotations

from tests.conftest import World
from trainsync_tui.app.adapter import EngineAdapter
from trainsync_tui.app.messages import ActorsListed, LogLines

GOOD = "0002_s3_only"


def test_a_skipped_s3_folder_is_a_warning_line_and_the_others_are_listed(world: World) -> None:
    world.put_s3(GOOD, "b.bin", b"b")
    world.put_s3(GOOD, "", b"x", key="actors/../training_data/f.bin")
    posted: list[object] = []
    adapter = EngineAdapter(world.engine(), posted.append, None)

    adapter.list_actors()

    listed = [m for m in posted if isinstance(m, ActorsListed)]
    assert [m.names for m in listed] == [[GOOD]] and listed[0].error == ""
    lines = [line for m in posted if isinstance(m, LogLines) for line in m.lines]
    assert len(lines) == 1 and lines[0][0] == "warning"
    assert f"'s3://{world.bucket}/actors/../' skipped" in lines[0][1]
