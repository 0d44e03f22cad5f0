"""SPEC §3 as a table: the pure plan, one parametrised row per line of the spec, no I/O."""

from __future__ import annotations

import pytest

from trainsync_tui.engine.plan.build import Category, ConflictPolicy, build_plan, conflict_copy_name
from trainsync_tui.engine.plan.counts import Counts
from trainsync_tui.engine.plan.steps import (
    BackupLocal,
    BackupS3,
    CopyS3,
    Download,
    LinkLocal,
    Record,
    TrashLocal,
    TrashS3,
    Unrecord,
    Upload,
)
from trainsync_tui.engine.scanned import Listings, LocalFile, ManifestEntry, PathIssue, RemoteObject

A, B, C = "a" * 32, "b" * 32, "c" * 32
PATH = "images/0001.png"


def local(md5: str, path: str = PATH, mtime: float = 1000.0, size: int = 10) -> LocalFile:
    return LocalFile(path, size, mtime, md5)


def remote(
    md5: str | None, path: str = PATH, modified: float = 1000.0, size: int = 10
) -> RemoteObject:
    etag = md5 if md5 else "d" * 32 + "-2"
    return RemoteObject(path, f"actors/x/training_data/{path}", size, etag, modified, md5)


def listings(l_md5: str | None, r_md5: str | None, m_md5: str | None, **kw: object) -> Listings:
    out = Listings()
    if l_md5:
        out.local[PATH] = local(l_md5)
    if r_md5:
        out.remote[PATH] = remote(r_md5 if r_md5 != "?" else None)
    if m_md5:
        out.manifest[PATH] = ManifestEntry(m_md5, 10)
    return out


def op_kinds(action: object) -> list[str]:
    return [type(op).__name__ for op in action.ops]  # type: ignore[attr-defined]


def row(
    l_md5: str | None,
    r_md5: str | None,
    m_md5: str | None,
    category: object,
    ops: str,
    counts: str,
    name: str,
) -> object:
    """One line of SPEC §3: its op kinds and count keys as words (each count is 1)."""
    return pytest.param(
        l_md5, r_md5, m_md5, category, ops.split(), dict.fromkeys(counts.split(), 1), id=name
    )


NO = None  # the side has no such file
UP, DOWN, CONFLICT = Category.UPLOAD, Category.DOWNLOAD, "conflict"
ADDED, UPDATED, REMOVED = "added_to_manifest", "updated_in_manifest", "removed_from_manifest"

# (L, R, M) → category (None: in sync), op kinds, counts
ROWS = [
    row(A, NO, NO, UP, "Upload Record", f"uploaded {ADDED}", "L-only: upload, add"),
    row(NO, A, NO, DOWN, "Download Record", f"downloaded {ADDED}", "R-only: download, add"),
    row(A, A, NO, Category.ADD_TO_MANIFEST, "Record", ADDED, "L=R, no M: add"),
    row(A, B, NO, CONFLICT, "", "", "L!=R, no M: conflict"),
    row(A, NO, A, UP, "Upload", "uploaded", "L=M, no R: upload"),
    row(A, NO, B, UP, "Upload Record", f"uploaded {UPDATED}", "L!=M, no R: upload, update"),
    row(NO, A, A, DOWN, "Download", "downloaded", "R=M, no L: download"),
    row(NO, A, B, DOWN, "Download Record", f"downloaded {UPDATED}", "R!=M, no L: download, update"),
    row(NO, NO, A, Category.REMOVE_FROM_MANIFEST, "Unrecord", REMOVED, "M only: remove entry"),
    row(A, A, A, None, "", "", "L=R=M: nothing"),
    row(A, A, B, Category.UPDATE_MANIFEST, "Record", UPDATED, "L=R!=M: update manifest"),
    row(A, B, B, UP, "Upload Record", f"uploaded {UPDATED}", "L changed: upload, update"),
    row(B, A, B, DOWN, "Download Record", f"downloaded {UPDATED}", "R changed: download, update"),
    row(A, B, C, CONFLICT, "", "", "all differ: conflict"),
    # An unknown S3 MD5 ("?") never equals anything; it is still decided by the other two.
    row(NO, "?", NO, DOWN, "Download Record", f"downloaded {ADDED}", "unknown R only: download"),
    row(A, "?", NO, CONFLICT, "", "", "unknown R vs L, no M: conflict"),
    row(A, "?", A, DOWN, "Download Record", f"downloaded {UPDATED}", "unknown R, L=M: download"),
    row(A, "?", B, CONFLICT, "", "", "unknown R, L!=M: conflict"),
]


@pytest.mark.parametrize(("l_md5", "r_md5", "m_md5", "category", "ops", "counts"), ROWS)
def test_reconciliation_row(l_md5, r_md5, m_md5, category, ops, counts) -> None:
    plan = build_plan(listings(l_md5, r_md5, m_md5))
    predicted = {k: v for k, v in plan.counts().to_json().items() if v}
    assert predicted == counts
    if category is None:
        assert plan.actions == () and plan.conflicts == ()
        assert plan.in_sync == 1
    elif category == "conflict":
        assert plan.actions == ()
        assert [c.path for c in plan.conflicts] == [PATH]
    else:
        assert [a.category for a in plan.actions] == [category]
        assert op_kinds(plan.actions[0]) == ops
    assert plan.total_paths == 1


def test_unknown_s3_md5_is_listed_as_unverified() -> None:
    plan = build_plan(listings(None, "?", None))
    assert plan.unverified == (PATH,)
    assert build_plan(listings(None, A, None)).unverified == ()


def test_blocked_paths_and_folders_are_left_alone() -> None:
    lists = Listings()
    for path in ("ok.txt", "bad.txt", "dir/x.txt", "dir/sub/y.txt"):
        lists.local[path] = local(A, path)
    lists.blocked = [PathIssue("bad.txt", "refused"), PathIssue("dir/", "unreadable")]
    plan = build_plan(lists)
    assert [a.path for a in plan.actions] == ["ok.txt"]
    assert [str(i) for i in plan.issues] == ["bad.txt: refused", "dir/: unreadable"]


def test_delete_orphans_trashes_unrecorded_files_on_both_sides() -> None:
    lists = Listings()
    lists.local["l.txt"] = local(A, "l.txt")
    lists.remote["r.txt"] = remote(A, "r.txt")
    lists.local["both.txt"] = local(A, "both.txt")
    lists.remote["both.txt"] = remote(B, "both.txt")
    lists.local["kept.txt"] = local(A, "kept.txt")
    lists.manifest["kept.txt"] = ManifestEntry(A, 10)
    plan = build_plan(lists, delete_orphans=True)
    got = sorted((a.path, a.category, op_kinds(a)[0]) for a in plan.actions)
    assert got == [
        ("both.txt", Category.DELETE_LOCAL, "TrashLocal"),
        ("both.txt", Category.DELETE_S3, "TrashS3"),
        ("kept.txt", Category.UPLOAD, "Upload"),
        ("l.txt", Category.DELETE_LOCAL, "TrashLocal"),
        ("r.txt", Category.DELETE_S3, "TrashS3"),
    ]
    assert plan.conflicts == ()
    counts = plan.counts()
    assert (counts.deleted_local, counts.deleted_s3, counts.uploaded) == (2, 2, 1)
    assert plan.deletions == 4 and plan.total_paths == 4
    assert plan.delete_share() == 1.0


def conflict_listings(l_mtime: float, r_modified: float) -> Listings:
    lists = Listings()
    lists.local[PATH] = local(A, mtime=l_mtime)
    lists.remote[PATH] = remote(B, modified=r_modified)
    lists.manifest[PATH] = ManifestEntry(C, 10)
    return lists


@pytest.mark.parametrize(
    ("policy", "l_mtime", "r_modified", "ops"),
    [
        (ConflictPolicy.LOCAL, 1, 2, [BackupS3, Upload, Record]),
        (ConflictPolicy.S3, 2, 1, [BackupLocal, Download, Record]),
        (ConflictPolicy.NEWER, 2, 1, [BackupS3, Upload, Record]),
        (ConflictPolicy.NEWER, 1, 2, [BackupLocal, Download, Record]),
        (ConflictPolicy.KEEP_BOTH, 2, 1, [Download, CopyS3, Upload, Record, Record]),
        (ConflictPolicy.KEEP_BOTH, 1, 2, [Upload, LinkLocal, Download, Record, Record]),
    ],
)
def test_conflict_policy_ops(policy, l_mtime, r_modified, ops) -> None:
    plan = build_plan(conflict_listings(l_mtime, r_modified), conflict=policy, stamp="S")
    assert plan.conflicts == ()
    (action,) = plan.actions
    assert action.category == Category.CONFLICT and action.resolved == policy
    assert [type(op) for op in action.ops] == ops


def test_skip_policy_and_newer_tie_leave_the_conflict() -> None:
    assert len(build_plan(conflict_listings(1, 2)).conflicts) == 1
    tie = build_plan(conflict_listings(5, 5), conflict=ConflictPolicy.NEWER)
    assert tie.actions == () and len(tie.conflicts) == 1


def test_keep_both_keeps_the_loser_beside_the_winner_in_the_manifest() -> None:
    plan = build_plan(conflict_listings(2, 1), conflict=ConflictPolicy.KEEP_BOTH, stamp="S")
    (action,) = plan.actions
    loser = "images/0001.conflict-s3-S.png"
    records = {op.path: op.md5 for op in action.ops if isinstance(op, Record)}
    assert records == {loser: B, PATH: A}
    download = next(op for op in action.ops if isinstance(op, Download))
    assert download.dest == loser
    assert plan.counts() == Counts(
        uploaded=1, downloaded=1, added_to_manifest=1, updated_in_manifest=1
    )


def test_conflict_copy_names() -> None:
    assert conflict_copy_name("a/b.png", "s3", "T") == "a/b.conflict-s3-T.png"
    assert conflict_copy_name("README", "local", "T") == "README.conflict-local-T"
    assert conflict_copy_name("x.tar.gz", "s3", "T") == "x.tar.conflict-s3-T.gz"


def test_per_path_resolution_beats_the_policy() -> None:
    lists = conflict_listings(1, 2)
    lists.local["other.txt"] = local(A, "other.txt")
    lists.remote["other.txt"] = remote(B, "other.txt")
    plan = build_plan(lists, resolutions={PATH: ConflictPolicy.LOCAL})
    assert [(a.path, a.resolved) for a in plan.actions] == [(PATH, ConflictPolicy.LOCAL)]
    assert [c.path for c in plan.conflicts] == ["other.txt"]


def test_unrecord_and_deletes_never_count_transfer_bytes() -> None:
    lists = Listings()
    lists.local["big.bin"] = local(A, "big.bin", size=1000)
    lists.remote["down.bin"] = remote(B, "down.bin", size=300)
    lists.manifest["gone"] = ManifestEntry(C, 5)
    plan = build_plan(lists)
    assert plan.bytes_to_transfer == 1300
    assert {a.path: a.direction for a in plan.actions} == {
        "big.bin": "up",
        "down.bin": "down",
        "gone": "",
    }
    assert isinstance(plan.actions[-1].ops[0], Unrecord)


def test_trash_ops_carry_the_listed_file() -> None:
    lists = Listings()
    lists.local["l"] = local(A, "l")
    lists.remote["r"] = remote(A, "r")
    plan = build_plan(lists, delete_orphans=True)
    ops = [a.ops[0] for a in plan.actions]
    assert isinstance(ops[0], TrashLocal) and ops[0].local.path == "l"
    assert isinstance(ops[1], TrashS3) and ops[1].remote.path == "r"
