"""The one progress throttle in front of every front end (issue 16): progress at most once per
interval per actor and source, the latest never lost, everything else at once and in order."""

from __future__ import annotations

import io

import pytest

from trainsync_tui.console import ConsoleSink
from trainsync_tui.engine.events import (
    Event,
    FileFailed,
    FileStarted,
    Progress,
    ProgressThrottle,
    ScanProgress,
    Stage,
)


def progress(actor: str, done: int) -> Progress:
    return Progress(actor, done, 10, done * 100, 1000, 0.1)


@pytest.mark.parametrize("failed", [True, False], ids=["a file failed", "none failed"])
def test_the_latest_progress_is_kept_and_sent_before_the_next_stage(failed: bool) -> None:
    sent: list[Event] = []
    now = [0.0]
    throttle = ProgressThrottle(sent.append, interval=0.25, clock=lambda: now[0])

    throttle(FileStarted("a", "x/1.bin", "download", 100))
    for done in range(1, 6):  # five updates inside one interval: the first goes at once
        throttle(progress("a", done))
    throttle(ScanProgress("a", "s3", 3))
    now[0] = 0.1
    throttle(ScanProgress("a", "s3", 4))
    if failed:
        throttle(FileFailed("a", "y.bin", "upload", "S3 said no"))  # never held back
    throttle(Stage("a", "done"))

    kinds = [type(e).__name__ for e in sent]
    failure = ["FileFailed"] if failed else []
    assert kinds == [
        "FileStarted",
        "Progress",
        "ScanProgress",
        *failure,
        "Progress",
        "ScanProgress",
        "Stage",
    ]
    assert [e.files_done for e in sent if isinstance(e, Progress)] == [1, 5]
    assert [e.done for e in sent if isinstance(e, ScanProgress)] == [3, 4]
    assert all(e.current == "x/1.bin" for e in sent if isinstance(e, Progress))
    now[0] = 1.0
    throttle(progress("a", 8))
    throttle(progress("a", 10))  # held back: the end of the run flushes it
    assert sent[-1] == Progress("a", 8, 10, 800, 1000, 0.1, "x/1.bin")
    throttle.flush()
    assert sent[-1] == Progress("a", 10, 10, 1000, 1000, 0.1, "x/1.bin")


def test_two_actors_syncing_at_once_each_get_their_progress() -> None:
    sent: list[Event] = []
    throttle = ProgressThrottle(sent.append, interval=0.25, clock=lambda: 0.0)
    throttle(progress("a", 1))
    throttle(progress("b", 1))  # another actor's first update is not held behind a's
    throttle(progress("a", 2))
    assert [(e.actor, e.files_done) for e in sent if isinstance(e, Progress)] == [
        ("a", 1),
        ("b", 1),
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_cli_progress_line_draws_through_the_throttle() -> None:
    tty = Terminal()
    sink = ConsoleSink(verbose=False, progress=True, stream=tty)
    for done in range(1, 10):
        sink(progress("a", done))
    sink(Stage("a", "done"))
    sink.finish()
    drawn = [line for line in tty.getvalue().split("\r\x1b[K") if line]
    # The first update at once, the last before the stage ends; the seven between are merged.
    assert drawn == [
        "a: 1/10 files, 100 Bytes/1000 Bytes at 1000 Bytes/s, ETA 0.9s",
        "a: 9/10 files, 900 Bytes/1000 Bytes at 8.8 KiB/s, ETA 0.0s",
    ]


def test_in_batches_nothing_but_older_progress_is_dropped_and_order_is_kept() -> None:
    """The app's shape: one batch per redraw period, each log line once, the latest numbers."""
    batches: list[list[Event]] = []
    now = [0.0]
    throttle = ProgressThrottle(interval=0.25, clock=lambda: now[0], batches=batches.append)
    throttle(FileStarted("a", "x/1.bin", "download", 100))  # the first goes at once
    for done in range(1, 6):
        throttle(progress("a", done))
        throttle(FileFailed("a", f"y{done}.bin", "upload", "S3 said no"))
    now[0] = 0.1
    throttle(Stage("a", "manifest"))
    assert len(batches) == 1  # all of that inside one period: held
    now[0] = 0.3
    throttle(progress("a", 6))
    assert len(batches) == 2
    second = batches[1]
    assert [type(e).__name__ for e in second] == ["Progress"] + ["FileFailed"] * 5 + ["Stage"]
    assert second[0] == Progress("a", 6, 10, 600, 1000, 0.1, "x/1.bin")  # the latest, in place
    throttle(progress("a", 7))
    throttle.flush()
    assert batches[-1] == [Progress("a", 7, 10, 700, 1000, 0.1, "x/1.bin")]


def test_the_api_stream_and_the_app_have_no_throttle_of_their_own() -> None:
    """One implementation, three users (issue 16): the stream and the app's forwarder hold
    the engine's ProgressThrottle."""
    from trainsync_tui.app.adapter import EventForwarder, LogFile
    from trainsync_tui.server import streaming

    assert (
        "ProgressThrottle" not in vars(streaming) or streaming.ProgressThrottle is ProgressThrottle
    )
    forwarder = EventForwarder("a", lambda message: None, LogFile(None))
    assert any(isinstance(value, ProgressThrottle) for value in vars(forwarder).values())
