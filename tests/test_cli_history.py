"""`trainsync history`: who ran each sync (user@host, through which front end), its conflicts
and errors counted in words, and aborted runs marked (issue 16)."""

from __future__ import annotations

import getpass
import json
import socket

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from trainsync_tui.cli import main
from trainsync_tui.commands import history_line
from trainsync_tui.engine.run.history import HistoryEntry


def test_history_says_who_ran_it_and_counts_errors_and_conflicts_in_words(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "c.bin", b"local")
    world.put_s3(ACTOR, "c.bin", b"remote")  # different on both sides, no manifest: conflict
    world.put_s3(ACTOR, "", b"x", key=f"actors/{ACTOR}/training_data/../escape.txt")
    assert main(["sync", ACTOR, "--no-progress", *world.cli_flags()]) == 1
    capsys.readouterr()

    assert main(["history", "--json", *world.cli_flags()]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["who"] == f"{getpass.getuser()}@{socket.gethostname()}"
    assert entry["via"] == "trainsync cli"
    assert entry["conflicts"] == 1 and entry["conflict_paths"] == ["c.bin"]
    assert entry["error_count"] == 1 and entry["aborted"] is False

    assert main(["history", *world.cli_flags()]) == 0
    line = capsys.readouterr().out.strip()
    assert "; 1 error, 1 conflict, " in line, line
    assert line.endswith(f"s ({entry['who']} via trainsync cli)"), line


def test_an_aborted_run_reads_aborted_and_old_entries_still_print() -> None:
    aborted = {
        "when": "2026-12-01T00:00:00Z",
        "actor": ACTOR,
        "who": "ana@gpu1",
        "via": "trainsync cli",
        "counts": {"uploaded": 3},
        "error_count": 2,
        "duration_s": 1.5,
        "cancelled": True,
        "aborted": True,
    }
    assert history_line(HistoryEntry.from_json(aborted)) == (
        f"2026-12-01T00:00:00Z {ACTOR} ABORTED: uploaded=3; 2 errors, 1.5s "
        "(ana@gpu1 via trainsync cli)"
    )
    old = {
        "when": "2025-01-01T00:00:00Z",
        "actor": ACTOR,
        "who": "trainsync cli",
        "counts": {},
        "error_count": 1,
        "duration_s": 0.1,
        "cancelled": True,
    }
    assert history_line(HistoryEntry.from_json(old)) == (
        f"2025-01-01T00:00:00Z {ACTOR} CANCELLED: no changes; 1 error, 0.1s (trainsync cli)"
    )
