"""The report is typed inside the engine (counts, conflicts); its JSON is made at the edge."""

from __future__ import annotations

import pytest

from tests.engine.clitools import SEED_KEYS as CLI_SEED_KEYS
from trainsync_tui.engine.plan.build import Conflict
from trainsync_tui.engine.plan.counts import Counts
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.scanned import LocalFile, ManifestEntry, RemoteObject

# The seed's count keys in its order, as clitools spells them for every CLI test.
SEED_KEYS = [key for key in CLI_SEED_KEYS if key != "errors"]


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


def test_the_report_keeps_conflicts_typed_and_writes_their_json() -> None:
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    conflict = Conflict(
        "x.bin",
        LocalFile("x.bin", 3, 1.0, a),
        RemoteObject("x.bin", "actors/x/training_data/x.bin", 5, b, 1.0, b),
        ManifestEntry(c, 4),
    )
    report = SyncReport("a", "0001", conflicts=[conflict])
    assert report.conflicts[0].path == "x.bin" and report.exit_code == 1
    assert report.to_json()["conflicts"] == [
        {
            "path": "x.bin",
            "local_md5": a,
            "local_size": 3,
            "s3_md5": b,
            "s3_size": 5,
            "manifest_md5": c,
        }
    ]
