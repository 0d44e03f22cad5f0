"""What a plan's ops count as in the report: the seed's keys and their names for people."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trainsync_tui.engine.plan.steps import Op
from trainsync_tui.engine.scanned import ManifestEntry

COUNT_KEYS = (
    "uploaded",
    "downloaded",
    "added_to_manifest",
    "updated_in_manifest",
    "removed_from_manifest",
    "deleted_local",
    "deleted_s3",
)
# How every front end names those counts to a person (the CLI, the app, its history).
COUNT_LABELS = {
    "uploaded": "uploaded",
    "downloaded": "downloaded",
    "added_to_manifest": "added to manifest",
    "updated_in_manifest": "updated in manifest",
    "removed_from_manifest": "removed from manifest",
    "deleted_local": "deleted locally (to trash)",
    "deleted_s3": "deleted from S3 (to trash)",
}


def predicted_counts(
    ops: Iterable[Op],
    manifest: Mapping[str, ManifestEntry],
    verified: Mapping[str, str] | None = None,
) -> list[str]:
    """Report keys the ops add when they succeed; the executor passes the MD5s it verified."""
    known = verified or {}
    return [key for op in ops if (key := op.counts_as(manifest, known))]
