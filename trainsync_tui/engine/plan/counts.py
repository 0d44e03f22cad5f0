"""What a plan's ops count as in the report: the seed's keys and their names for people."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from trainsync_tui.engine.plan.steps import Op
from trainsync_tui.engine.scanned import ManifestEntry


@dataclass(slots=True)
class Counts:
    """How many of each change a run made, or a plan would make: the seed's report counts.

    The field names are the seed's JSON keys; `to_json` is the one form the CLI's JSON, the
    API's bodies and the history file write."""

    uploaded: int = 0
    downloaded: int = 0
    added_to_manifest: int = 0
    updated_in_manifest: int = 0
    removed_from_manifest: int = 0
    deleted_local: int = 0
    deleted_s3: int = 0

    def add(self, key: str, n: int = 1) -> None:
        """Count `n` more of `key` (a step's `count_key`)."""
        setattr(self, key, getattr(self, key) + n)

    @property
    def total(self) -> int:
        return sum(getattr(self, key) for key in COUNT_KEYS)

    def to_json(self) -> dict[str, int]:
        """The seed's keys, in the seed's order."""
        return {key: getattr(self, key) for key in COUNT_KEYS}


COUNT_KEYS = tuple(f.name for f in fields(Counts))
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
