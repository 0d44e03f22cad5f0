"""What the app's log says of a cancelled sync: what finished and what was kept for resume,
not "nothing partial left" while 300 MiB of partial transfers wait (issue 25 item 7)."""

from __future__ import annotations

from trainsync_tui.app.summaries import summary
from trainsync_tui.engine.run.report import KeptForResume, KeptTransfer, SyncReport

MiB = 1024 * 1024


def test_a_cancelled_sync_says_what_it_kept_for_resume() -> None:
    kept = KeptForResume(
        downloads=[KeptTransfer("a.bin", 400 * MiB, 200 * MiB), KeptTransfer("b", 9, 3 * MiB)],
        uploads=[KeptTransfer("c.bin", 300 * MiB, 120 * MiB)],
    )
    report = SyncReport("0042_x", "0042", cancelled=True, kept=kept)
    report.add("uploaded", 2)

    text, level = summary(report)

    assert level == "warning"
    assert text == (
        "Cancelled: finished 2 uploaded; 323.0 MiB kept for resume (2 downloads, 1 upload); "
        "manifest valid"
    )
    nothing = summary(SyncReport("0042_x", "0042", cancelled=True))[0]
    assert nothing == "Cancelled: no file changed; manifest valid"
