"""Selective sync: globs, folders, paths, categories and direction applied to a plan."""

from __future__ import annotations

import unicodedata

from trainsync_tui.engine.plan.build import Category, Plan, build_plan
from trainsync_tui.engine.plan.select import Selection, apply_selection
from trainsync_tui.engine.scanned import Listings, LocalFile, ManifestEntry, RemoteObject

A, B = "a" * 32, "b" * 32


def plan() -> Plan:
    lists = Listings()
    for path in ("images/0001.png", "images/sub/0002.png", "audio/a.wav", "notes.txt"):
        lists.local[path] = LocalFile(path, 1, 1.0, A)
    lists.remote["labels/l.json"] = RemoteObject("labels/l.json", "k/labels/l.json", 1, B, 1.0, B)
    lists.manifest["gone.txt"] = ManifestEntry(A, 1)
    return build_plan(lists)


def paths(selection: Selection) -> list[str]:
    return sorted(a.path for a in apply_selection(plan(), selection).actions)


def test_only_glob_matches_files_and_folders() -> None:
    assert paths(Selection(only=["*.png"])) == ["images/0001.png", "images/sub/0002.png"]
    assert paths(Selection(only=["images"])) == ["images/0001.png", "images/sub/0002.png"]
    assert paths(Selection(only=["images/sub/"])) == ["images/sub/0002.png"]
    assert paths(Selection(only=["audio", "notes.txt"])) == ["audio/a.wav", "notes.txt"]


def test_exclude_glob_removes_files_and_folders() -> None:
    assert paths(Selection(exclude=["images"])) == [
        "audio/a.wav",
        "gone.txt",
        "labels/l.json",
        "notes.txt",
    ]
    assert paths(Selection(only=["images"], exclude=["*/sub"])) == ["images/0001.png"]


def test_direction_up_and_down_are_the_old_buttons() -> None:
    up = paths(Selection(direction="up"))
    down = paths(Selection(direction="down"))
    assert "labels/l.json" not in up and "images/0001.png" in up
    assert down == ["gone.txt", "labels/l.json"]  # manifest-only changes go both ways


def test_paths_select_files_and_folders() -> None:
    assert paths(Selection(paths={"notes.txt", "images/sub/"})) == [
        "images/sub/0002.png",
        "notes.txt",
    ]


def test_categories_select_groups() -> None:
    assert paths(Selection(categories={Category.DOWNLOAD})) == ["labels/l.json"]
    assert paths(Selection(categories={Category.REMOVE_FROM_MANIFEST})) == ["gone.txt"]


def test_selection_keeps_conflicts_reported_and_counts_follow() -> None:
    selected = apply_selection(plan(), Selection(only=["notes.txt"]))
    assert selected.counts().uploaded == 1
    assert selected.counts().downloaded == 0


def test_one_way_directions_leave_out_actions_that_change_the_other_side() -> None:
    from trainsync_tui.engine.plan.build import ConflictPolicy

    lists = Listings()
    lists.local["c.bin"] = LocalFile("c.bin", 1, 2.0, A)
    lists.remote["c.bin"] = RemoteObject("c.bin", "k/c.bin", 1, B, 1.0, B)
    for policy, up, down in (
        (ConflictPolicy.LOCAL, ["c.bin"], []),
        (ConflictPolicy.S3, [], ["c.bin"]),
        (ConflictPolicy.KEEP_BOTH, [], []),  # it writes a local copy and an S3 copy
    ):
        plan = build_plan(lists, conflict=policy)
        assert [a.path for a in apply_selection(plan, Selection(direction="up")).actions] == up
        assert [a.path for a in apply_selection(plan, Selection(direction="down")).actions] == down


def test_conflicts_and_refused_paths_outside_the_selection_are_not_this_syncs() -> None:
    from trainsync_tui.engine.scanned import PathIssue

    lists = Listings()
    lists.local["images/0001.png"] = LocalFile("images/0001.png", 1, 1.0, A)
    lists.local["text/c.txt"] = LocalFile("text/c.txt", 1, 1.0, A)
    lists.remote["text/c.txt"] = RemoteObject("text/c.txt", "k/text/c.txt", 1, B, 1.0, B)
    lists.blocked.append(PathIssue("../evil", "S3 key refused: has a '..' segment", "s3"))
    full = build_plan(lists)
    assert [c.path for c in full.conflicts] == ["text/c.txt"] and full.issues

    images = apply_selection(full, Selection(only=["images/*"], direction="up"))
    assert [a.path for a in images.actions] == ["images/0001.png"]
    assert images.conflicts == () and images.issues == ()
    text = apply_selection(full, Selection(paths={"text/"}))
    assert [c.path for c in text.conflicts] == ["text/c.txt"]
    uploads = apply_selection(full, Selection(categories={Category.UPLOAD}))
    assert uploads.conflicts == ()
    assert apply_selection(full, Selection(direction="up")).conflicts == full.conflicts


def test_paths_and_globs_typed_in_nfd_select_the_nfc_plan_paths() -> None:
    nfc = unicodedata.normalize("NFC", "café/a.png")
    nfd = unicodedata.normalize("NFD", nfc)
    other = "other.png"
    lists = Listings(local={nfc: LocalFile(nfc, 1, 1.0, A), other: LocalFile(other, 1, 1.0, A)})
    for selection in (
        Selection(paths={nfd}),
        Selection(paths={unicodedata.normalize("NFD", "café/")}),
        Selection(only=[unicodedata.normalize("NFD", "caf*é")]),
    ):
        assert [a.path for a in apply_selection(build_plan(lists), selection).actions] == [nfc]
    excluded = apply_selection(build_plan(lists), Selection(exclude=[nfd]))
    assert [a.path for a in excluded.actions] == [other]
