"""What the header and the log say when a sync or a restore ends.

It never claims more than happened: "already in sync" only for a full sync that found
nothing to do and hit no error; a sync that failed before changing anything says
"not synced" and why; an upload-only or download-only run says what it had nothing to do for.
"""

from __future__ import annotations

from trainsync_tui.engine.plan.counts import COUNT_LABELS
from trainsync_tui.engine.plan.select import Selection
from trainsync_tui.engine.run.report import SyncReport, plural
from trainsync_tui.engine.run.restore import RestoreReport

NOTHING = {"up": "nothing to upload", "down": "nothing to download"}


def summary(
    report: SyncReport | None, error: str = "", selection: Selection | None = None
) -> tuple[str, str]:
    """(text, log level) for a finished sync; `selection` is what the sync was asked to do."""
    if report is None:
        return f"✗ not synced: {error}", "error"
    counts = ", ".join(
        f"{n:,} {COUNT_LABELS.get(k, k)}" for k, n in report.counts.to_json().items() if n
    )
    if report.cancelled:
        done = f"finished {counts}" if counts else "no file changed"
        kept = f"; {report.kept.text()}" if report.kept else ""
        return f"Cancelled: {done}{kept}; manifest valid", "warning"
    selection = selection or Selection()
    errors, conflicts = len(report.errors), len(report.conflicts)
    if counts:
        done = counts
    elif errors:
        done = "not synced"
    elif selection.direction in NOTHING:
        done = NOTHING[selection.direction]
    elif not selection.is_everything:
        done = "nothing to do in the selection"
    elif conflicts:
        done = "nothing else to do"
    else:
        done = "already in sync" if not report.dry_run else "nothing to do"
    if report.dry_run:
        done = f"Dry run, would have: {done}" if counts else f"Dry run: {done}"
    else:
        done = ("✗ " if errors and not counts else "! " if errors or conflicts else "✅ ") + done
    extras = []
    if conflicts:
        extras.append(f"{plural(conflicts, 'conflict')} skipped (c)")
    if errors:
        extras.append(report.errors[0] if errors == 1 else f"{errors:,} errors (see the log)")
    text = " · ".join([done, *extras])
    if errors and not counts:
        text = f"{done}: {' · '.join(extras)}"
    level = "error" if errors else ("warning" if conflicts else "info")
    return text, level


def restore_lines(report: RestoreReport) -> list[tuple[str, str]]:
    """The log lines of a restore: what came back first, then each skip, error and note."""
    local = plural(len(report.restored_local), "local file")
    s3 = plural(len(report.restored_s3), "S3 object")
    level = "info" if report.exit_code == 0 else "warning"
    out = [(level, f"restored {report.stamp}: {local}, {s3}")]
    if report.skipped or report.errors:
        out[0] = (level, out[0][1] + f", {len(report.skipped) + len(report.errors)} not")
    out += [("warning", f"not restored: {s}") for s in report.skipped]
    out += [("error", e) for e in report.errors]
    out += [("info", f"note: {n}") for n in report.notes]
    return out
