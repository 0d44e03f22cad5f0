"""What a plan's ops count as in the report: the seed's keys and their names for people."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trainsync_tui.engine.plan.steps import (
    Download,
    Op,
    Record,
    TrashLocal,
    TrashS3,
    Unrecord,
    Upload,
)
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
    keys: list[str] = []
    for op in ops:
        if isinstance(op, Upload):
            keys.append("uploaded")
        elif isinstance(op, Download):
            keys.append("downloaded")
        elif isinstance(op, TrashLocal):
            keys.append("deleted_local")
        elif isinstance(op, TrashS3):
            keys.append("deleted_s3")
        elif isinstance(op, Unrecord):
            keys.append("removed_from_manifest")
        elif isinstance(op, Record):
            md5 = op.md5 or (verified or {}).get(op.path)
            key = record_count_key(manifest.get(op.path), md5)
            if key:
                keys.append(key)
    return keys


def record_count_key(before: ManifestEntry | None, md5: str | None) -> str | None:
    if before is None:
        return "added_to_manifest"
    if md5 is None or md5 != before.md5:
        return "updated_in_manifest"
    return None
