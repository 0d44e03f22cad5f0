"""Honest progress (issue 25 item 3): speed from the last seconds only, resumed bytes are not
speed, and the ETA counts the files left, never "0s" while work remains. The clock is each
event's `elapsed`, so no test sleeps."""

from __future__ import annotations

from trainsync_tui.app.models.progress_estimate import ProgressEstimate
from trainsync_tui.app.widgets.progress import describe
from trainsync_tui.engine.events import Progress

MIB = 1 << 20


def progress(at: float, done: int, total: int, files: int = 0, files_total: int = 1) -> Progress:
    return Progress("actor", files, files_total, done, total, at)


def test_speed_is_the_last_seconds_not_the_mean_since_the_start() -> None:
    estimate = ProgressEstimate(window=5)
    total = 400 * MIB
    # 100 MiB/s for 2 s, then 10 MiB/s (a --bwlimit set mid-run) for 10 s.
    for second in range(3):
        estimate.update(progress(second, second * 100 * MIB, total))
    done = 200 * MIB
    for second in range(3, 13):
        done += 10 * MIB
        now = estimate.update(progress(second, done, total))
    assert now.rate == 10 * MIB  # the mean since the start says ~25 MiB/s
    assert now.eta == (total - done) / (10 * MIB)


def test_resumed_bytes_are_not_speed() -> None:
    """A resume counts 80 MiB done at once; under --bwlimit 10M the speed stays 10 MiB/s."""
    estimate = ProgressEstimate(window=5)
    total = 300 * MIB
    estimate.update(progress(0, 0, total))
    first = estimate.update(progress(1, 90 * MIB, total), resumed=80 * MIB)
    assert first.rate == 10 * MIB
    later = estimate.update(progress(2, 100 * MIB, total), resumed=80 * MIB)
    assert later.rate == 10 * MIB
    assert later.eta == 20.0  # 200 MiB left at 10 MiB/s, not "ETA 3s"
    assert "80" not in describe(progress(2, 100 * MIB, total), later).split("·")[1]


def test_the_engines_running_count_of_resumed_bytes_is_not_speed() -> None:
    """The app's adapter passes the engine's Progress alone: its `bytes_resumed` is what the
    estimate leaves out, and so does the CLI's line (`Progress.rate`)."""
    estimate = ProgressEstimate(window=5)
    total = 300 * MIB
    estimate.update(Progress("actor", 0, 1, 0, total, 0.0))
    resumed = Progress("actor", 0, 1, 90 * MIB, total, 1.0, bytes_resumed=80 * MIB)
    now = estimate.update(resumed)
    assert now.rate == 10 * MIB and now.eta == 21.0  # 210 MiB left at 10 MiB/s
    assert resumed.rate == 10 * MIB and resumed.eta == 21.0  # the mean says 90 MiB/s, 2.3 s


def test_files_left_keep_the_eta_when_the_bytes_are_nearly_done() -> None:
    """15,001 small files and one 200 MB file: the bytes say done, 13,000 files do not."""
    estimate = ProgressEstimate(window=5)
    total = 200 * MIB + 15_000 * 1024
    files_total = 15_001
    estimate.update(progress(0, 0, total, 0, files_total))
    # The big file went first; then 200 small files a second.
    estimate.update(progress(20, 200 * MIB, total, 1, files_total))
    for second in range(21, 31):
        files = 1 + (second - 20) * 200
        now = estimate.update(progress(second, 200 * MIB + files * 1024, total, files, files_total))
    files_left = files_total - files
    assert now.eta is not None and now.eta >= files_left / 200  # ~65 s, not "0s"
    assert "ETA 0s" not in describe(progress(30, total - 1, total, files, files_total), now)


def test_the_eta_is_never_zero_while_work_remains_and_zero_when_done() -> None:
    estimate = ProgressEstimate(window=5)
    estimate.update(progress(0, 0, 1000 * MIB))
    almost = estimate.update(progress(1, 1000 * MIB - 1, 1000 * MIB))
    assert almost.eta is not None and almost.eta >= 1.0
    done = estimate.update(progress(2, 1000 * MIB, 1000 * MIB, 1, 1))
    assert done.eta == 0.0


def test_no_estimate_before_anything_moved() -> None:
    estimate = ProgressEstimate(window=5)
    first = estimate.update(progress(0, 0, 100, 0, 3))
    assert first.rate == 0.0 and first.eta is None
    text = describe(progress(0, 0, 100, 0, 3), first)
    assert "ETA" not in text and "0/3 files" in text
