"""Selective sync: which actions of a plan to run (paths, folders, globs, categories, direction)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from trainsync_tui.engine.paths import normalise
from trainsync_tui.engine.plan.build import Action, Category, Plan


@dataclass(frozen=True)
class Selection:
    """Empty fields select everything; `paths` holds files or folders ("images/")."""

    only: Sequence[str] = ()
    exclude: Sequence[str] = ()
    paths: Collection[str] = field(default_factory=frozenset)
    categories: Collection[Category] = field(default_factory=frozenset)
    direction: str = "both"

    def __post_init__(self) -> None:
        # Plan paths are NFC: a path or glob typed on a Mac (NFD) must select the same files.
        for name in ("only", "exclude"):
            object.__setattr__(self, name, tuple(normalise(g) for g in getattr(self, name) or ()))
        object.__setattr__(self, "paths", frozenset(normalise(p) for p in self.paths or ()))

    @property
    def is_everything(self) -> bool:
        return (
            not (self.only or self.exclude or self.paths or self.categories)
            and self.direction == "both"
        )


def _matches_glob(path: str, pattern: str) -> bool:
    """A glob matches the path, or a folder it is in ("images" and "images/" take the folder)."""
    pattern = pattern.rstrip("/") if pattern not in ("/", "") else pattern
    if fnmatchcase(path, pattern):
        return True
    parts = path.split("/")
    return any(fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts)))


def _in_paths(path: str, paths: Collection[str]) -> bool:
    if path in paths:
        return True
    parts = path.split("/")
    return any("/".join(parts[:i]) + "/" in paths for i in range(1, len(parts)))


def in_scope(selection: Selection, path: str) -> bool:
    """Whether the path filters (globs, folders, paths) take in `path`."""
    if selection.only and not any(_matches_glob(path, g) for g in selection.only):
        return False
    if selection.exclude and any(_matches_glob(path, g) for g in selection.exclude):
        return False
    return not (selection.paths and not _in_paths(path, selection.paths))


def wants(selection: Selection, action: Action) -> bool:
    if not in_scope(selection, action.path):
        return False
    if selection.categories and action.category not in selection.categories:
        return False
    # One-way "up" must not touch local files: keep-both (both sides) is left out of both.
    if selection.direction == "up":
        return not action.changes_local
    if selection.direction == "down":
        return not action.changes_s3
    return True


def apply_selection(plan: Plan, selection: Selection) -> Plan:
    """The plan reduced to the selected actions, and to the conflicts and refused paths in scope.

    A conflict or a refused key outside what the user picked is not this sync's problem: an
    "upload images/ only" cron job must not fail forever over a conflict in text/.
    Direction does not narrow conflicts: an unresolved one still blocks either way.
    """
    if selection.is_everything:
        return plan
    conflicts_wanted = not selection.categories or Category.CONFLICT in selection.categories
    return dataclasses.replace(
        plan,
        actions=tuple(a for a in plan.actions if wants(selection, a)),
        conflicts=tuple(
            c for c in plan.conflicts if conflicts_wanted and in_scope(selection, c.path)
        ),
        issues=tuple(i for i in plan.issues if in_scope(selection, i.path)),
        unverified=tuple(p for p in plan.unverified if in_scope(selection, p)),
    )
