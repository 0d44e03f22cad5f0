"""The report counts are typed inside the engine and keep the seed's keys at the edge."""

from __future__ import annotations

import pytest

from trainsync_tui.engine.plan.counts import Counts
from trainsync_tui.engine.run.report import SyncReport

SEED_KEYS = [
    "uploaded",
    "downloaded",
    "added_to_manifest",
    "updated_in_manifest",
    "removed_from_manifest",
    "deleted_local",
    "deleted_s3",
]


def test_counts_serialise_to_the_seed_keys_in_order() -> None:
    counts = Counts()
    counts.add("deleted_s3", 2)
    counts.add("uploaded")
    assert list(counts.to_json().items()) == [
        (k, {"uploaded": 1, "deleted_s3": 2}.get(k, 0)) for k in SEED_KEYS
    ]
    assert counts.total == 3


def test_a_count_the_seed_does_not_have_is_refused() -> None:
    with pytest.raises(AttributeError):
        Counts().add("renamed")


def test_the_report_json_starts_with_the_counts() -> None:
    report = SyncReport("a", "0001")
    report.add("downloaded", 4)
    data = report.to_json()
    assert list(data)[: len(SEED_KEYS)] == SEED_KEYS
    assert data["downloaded"] == 4 and report.changed == 4
