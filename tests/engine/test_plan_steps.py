"""Each plan step answers for itself: how it runs, its direction, its count, its bytes."""

from __future__ import annotations

import pytest

from trainsync_tui.engine.plan.steps import (
    BackupLocal,
    BackupS3,
    CopyS3,
    Download,
    LinkLocal,
    Op,
    Record,
    TrashLocal,
    TrashS3,
    Unrecord,
    Upload,
)
from trainsync_tui.engine.run.execute import Executor
from trainsync_tui.engine.scanned import LocalFile, ManifestEntry, RemoteObject

A, B = "a" * 32, "b" * 32
LOCAL = LocalFile("f", 7, 1.0, A)
REMOTE = RemoteObject("f", "actors/x/training_data/f", 11, B, 1.0, B)

# step, the runner method it calls, direction, count key, bytes, deletes
ROWS: list[tuple[Op, str | None, str, str | None, int, bool]] = [
    (Upload(LOCAL, "f", None), "upload", "up", "uploaded", 7, False),
    (Download(REMOTE, "f", None), "download", "down", "downloaded", 11, False),
    (CopyS3(REMOTE, "g"), "copy_s3", "up", None, 0, False),
    (LinkLocal(LOCAL, "g"), "link_local", "down", None, 0, False),
    (TrashLocal(LOCAL), "trash_local", "down", "deleted_local", 0, True),
    (TrashS3(REMOTE), "trash_s3", "up", "deleted_s3", 0, True),
    (BackupLocal(LOCAL), "backup_local", "", None, 0, False),
    (BackupS3(REMOTE), "backup_s3", "", None, 0, False),
    (Unrecord("f"), None, "", "removed_from_manifest", 0, False),
]


class _Runner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Op]] = []

    def __getattr__(self, name: str) -> object:
        def call(step: Op) -> str:
            self.calls.append((name, step))
            return "m" * 32

        return call


@pytest.mark.parametrize(("step", "method", "direction", "key", "size", "deletes"), ROWS)
def test_a_step_runs_itself_and_states_what_it_is(
    step: Op, method: str | None, direction: str, key: str | None, size: int, deletes: bool
) -> None:
    runner = _Runner()
    written = step.run(runner)  # type: ignore[arg-type]
    assert runner.calls == ([(method, step)] if method else [])
    assert written == (("f", "m" * 32) if method in ("upload", "download") else None)
    assert (step.direction, step.counts_as({}, {}), step.transfer_bytes, step.deletes) == (
        direction,
        key,
        size,
        deletes,
    )
    if method:
        assert callable(getattr(Executor, method))  # the executor carries out every step


def test_a_record_counts_by_what_the_manifest_held_and_what_was_verified() -> None:
    before = {"f": ManifestEntry(A, 7)}
    assert Record("f", A, 7).counts_as({}, {}) == "added_to_manifest"
    assert Record("f", A, 7).counts_as(before, {}) is None
    assert Record("f", B, 7).counts_as(before, {}) == "updated_in_manifest"
    assert Record("f", None, 7).counts_as(before, {"f": A}) is None
    assert Record("f", None, 7).counts_as(before, {}) == "updated_in_manifest"


def test_manifest_steps_write_their_entry_or_drop_it() -> None:
    edits: list[tuple[str, ...]] = []

    class Edits:
        def record(self, path: str, md5: str, size: int) -> None:
            edits.append(("record", path, md5, str(size)))

        def unrecord(self, path: str) -> None:
            edits.append(("unrecord", path))

    Record("f", None, 7).edit_manifest(Edits(), {"f": B})
    Record("g", A, 3).edit_manifest(Edits(), {})
    Unrecord("h").edit_manifest(Edits(), {})
    Upload(LOCAL, "f", None).edit_manifest(Edits(), {})
    assert edits == [("record", "f", B, "7"), ("record", "g", A, "3"), ("unrecord", "h")]
