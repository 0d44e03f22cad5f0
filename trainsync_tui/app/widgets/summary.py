"""The one-line summary the header shows when a sync ends."""

from __future__ import annotations

from trainsync_tui.engine.report import SyncReport

LABELS = {
    "uploaded": "uploaded",
    "downloaded": "downloaded",
    "added_to_manifest": "added to manifest",
    "updated_in_manifest": "updated in manifest",
    "removed_from_manifest": "removed from manifest",
    "deleted_local": "deleted locally",
    "deleted_s3": "deleted in S3",
}


def summary(report: SyncReport | None, error: str = "") -> tuple[str, str]:
    """(text, log level) for a finished sync."""
    if report is None:
        return f"✗ {error}", "error"
    if report.cancelled:
        return "Cancelled: nothing partial left, manifest valid", "warning"
    counts = [f"{n:,} {LABELS.get(k, k)}" for k, n in report.counts.items() if n]
    if report.dry_run:
        done = "Dry run, would have: " + (", ".join(counts) if counts else "nothing to do")
    else:
        done = "✅ " + (", ".join(counts) if counts else "already in sync")
    extras = []
    if report.conflicts:
        extras.append(f"{len(report.conflicts):,} conflicts skipped (c)")
    if report.errors:
        first = report.errors[0] if len(report.errors) == 1 else f"{len(report.errors):,} errors"
        extras.append(f"✗ {first}")
    level = "error" if report.errors else ("warning" if report.conflicts else "info")
    return " · ".join([done, *extras]), level
