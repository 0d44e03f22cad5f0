"""Restores are in the history (issue 25 item 7), shown by `trainsync history`, the API and
the app's history screen (the app's own restore: tests/app/test_app_restore.py); a restore
lands local files as a download does, so a folder swapped for a link mid-restore fails that
path and writes nothing outside (the issue-22 leftover: restore wrote by path after one
realpath check)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest_screens import ScreenHost, table_rows, text_of
from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.test_cli_restore import trash_an_orphan_of_each_kind
from trainsync_tui.app.screens.history import HistoryScreen
from trainsync_tui.cli import main
from trainsync_tui.engine.run import restore as restore_module


def test_a_cli_restore_is_in_the_history_with_its_stamp_and_what_came_back(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    flags = world.cli_flags()
    world.put_local(ACTOR, "same.bin", b"a new file under that name")  # left in the trash
    assert main(["restore", ACTOR, stamp, *flags]) == 1
    capsys.readouterr()

    assert main(["history", ACTOR, "--json", *flags]) == 0
    restore, sync = json.loads(capsys.readouterr().out)
    assert sync["kind"] == "sync" and "stamp" not in sync  # a sync's line is as it was
    assert restore["kind"] == "restore" and restore["stamp"] == stamp
    assert restore["counts"] == {"restored_local": 1, "restored_s3": 2}
    assert restore["restored"] == ["old/a.bin (local)", "old/b.bin (S3)", "same.bin (S3)"]
    assert restore["skipped_count"] == 1 and restore["via"] == "trainsync cli"
    assert restore["skipped"] == ["same.bin: exists locally; not overwritten (local trash)"]

    assert main(["history", ACTOR, *flags]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert f" {ACTOR} restore of {stamp}: 3 restored (1 local, 2 S3); 0 errors, " in first
    assert "1 not overwritten" in first


async def test_the_history_screen_shows_a_restore_row_and_its_detail(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    assert main(["restore", ACTOR, stamp, *world.cli_flags()]) == 0
    engine = world.engine()
    entries = engine.history(ACTOR)
    engine.close()

    app = ScreenHost(lambda: HistoryScreen(entries, actor=ACTOR))
    async with app.run_test(size=(80, 24)):
        rows = table_rows(app.screen.query_one("#history-table"))
        assert [row[1:] for row in rows] == [["restore", "4", "ok"], ["sync", "4", "ok"]]
        text = text_of(app.screen.query_one("#history-detail"))
        assert f"Restore of the trash of the sync of {stamp}" in text
        assert "Restored (4):" in text and "  - old/b.bin (S3)" in text
        assert "Result: ok" in text


def test_a_folder_swapped_for_a_link_mid_restore_fails_that_path_and_writes_nothing_outside(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash" / stamp
    folder = world.actor_dir(ACTOR) / "training_data" / "old"
    assert folder.is_dir()  # left by the trashing sync; checked before the hash
    outside = tmp_path / "outside"
    outside.mkdir()
    real_md5 = restore_module.md5_file
    swapped: list[bool] = []

    def md5_then_swap(path: Any, *args: Any) -> str:
        # The moment between the folder check and the link: the folder becomes a link.
        if not swapped and Path(path).name == "a.bin":
            swapped.append(True)
            folder.rename(folder.with_name("old.moved"))
            folder.symlink_to(outside, target_is_directory=True)
        return str(real_md5(path, *args))

    monkeypatch.setattr(restore_module, "md5_file", md5_then_swap)
    assert main(["restore", ACTOR, stamp, "--json", *world.cli_flags()]) == 1
    report = json.loads(capsys.readouterr().out)

    assert swapped, "the swap never ran"
    assert os.listdir(outside) == []
    assert report["errors"] == [
        "old/a.bin (local trash): its folder old/ is a symbolic link leading outside "
        "training_data/; refused; left in the trash"
    ]
    assert (trash / "old" / "a.bin").is_file()  # still in the trash, for another try
    assert report["restored_local"] == ["same.bin"]
