"""The adapter's forwarder: engine events become few, batched, throttled messages."""

from __future__ import annotations

import time
from pathlib import Path

from trainsync_tui.app.adapter import REDRAW_SECONDS, EventForwarder, LogFile
from trainsync_tui.app.messages import LogLines, ProgressChanged
from trainsync_tui.engine.events import FileDone, FileStarted, Progress


def test_a_burst_of_events_is_a_few_messages_and_the_last_state_is_kept(tmp_path: Path) -> None:
    posted: list[object] = []
    log = LogFile(tmp_path / "logs" / "app.log")
    forward = EventForwarder("0001_a", posted.append, log)
    started = time.monotonic()
    for n in range(1000):
        forward(FileStarted("0001_a", f"f{n}", "upload", 1))
        forward(FileDone("0001_a", f"f{n}", "upload", 1, f"uploaded: f{n}"))
        forward(Progress("0001_a", n + 1, 1000, n + 1, 1000, 1.0))
    forward.flush()
    elapsed = time.monotonic() - started
    log.close()
    allowed = 2 + int(elapsed / REDRAW_SECONDS)  # one post per redraw period, plus the flush
    progress = [m for m in posted if isinstance(m, ProgressChanged)]
    batches = [m for m in posted if isinstance(m, LogLines)]
    assert 1 <= len(progress) <= allowed and len(batches) <= allowed
    assert progress[-1].progress.files_done == 1000 and progress[-1].current == "f999"
    assert sum(len(b.lines) for b in batches) == 1000  # batched, none lost
    written = (tmp_path / "logs" / "app.log").read_text().splitlines()
    assert len(written) == 1000 and written[-1].endswith("0001_a: uploaded: f999")


def test_a_big_plan_freezes_the_heap_so_full_gc_passes_skip_it() -> None:
    """A full collection walked the ~1M objects of a 100k-path audit + plan + model: 0.2-0.5 s
    pauses of the UI thread mid-sync (python -m trainsync_tui.bench.app_tree)."""
    import gc

    from trainsync_tui.app.adapter import FREEZE_ABOVE, freeze_big_heap

    gc.unfreeze()
    try:
        freeze_big_heap(FREEZE_ABOVE - 1)
        assert gc.get_freeze_count() == 0  # small actors: nothing to fix
        freeze_big_heap(FREEZE_ABOVE)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_now_names_the_big_transfer_under_way_not_the_last_small_file(tmp_path: Path) -> None:
    posted: list[object] = []
    forward = EventForwarder("0001_a", posted.append, LogFile(None))
    forward(FileStarted("0001_a", "video/big.mp4", "download", 300 << 20))
    for n in range(5):  # small files start and finish around it
        forward(FileStarted("0001_a", f"img/{n}.png", "download", 100))
        forward(FileDone("0001_a", f"img/{n}.png", "download", 100, f"downloaded: img/{n}.png"))
    forward(FileStarted("0001_a", "img/9.png", "download", 100))
    forward(Progress("0001_a", 5, 7, 500, 300 << 20, 1.0))
    forward.flush()
    progress = [m for m in posted if isinstance(m, ProgressChanged)]
    assert progress[-1].current == "video/big.mp4"


def test_progress_carries_the_speed_of_the_last_seconds_not_the_run_mean() -> None:
    posted: list[object] = []
    forward = EventForwarder("0001_a", posted.append, LogFile(None))
    mib = 1 << 20
    for second, done in ((0, 0), (1, 100 * mib), (10, 109 * mib), (11, 110 * mib)):
        forward(Progress("0001_a", 0, 2, done, 400 * mib, float(second)))
        forward.flush()
    (*_, last) = [m for m in posted if isinstance(m, ProgressChanged)]
    assert last.progress.rate == 10 * mib  # the mean: 110 MiB over 11 s
    assert last.estimate is not None and last.estimate.rate < 2 * mib  # 1 MiB/s lately
