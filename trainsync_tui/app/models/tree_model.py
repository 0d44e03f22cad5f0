"""The discrepancy tree as plain data: groups (what sync would do) → folders → files.

Built off the UI thread from a Plan; the Tree widget only ever materialises the nodes a
user opens, so a plan with 100,000 entries costs one pass here and a handful of widgets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from trainsync_tui.engine.plan.build import Action, Category, Plan
from trainsync_tui.engine.plan.select import Selection

# (group key, title, categories it selects), in the order sync thinks about them.
# "problems" (refused or unreadable paths: sync leaves them alone) comes first and selects
# nothing.
GROUPS: tuple[tuple[str, str, tuple[Category, ...]], ...] = (
    ("problems", "Problems (sync leaves these alone)", ()),
    ("upload", "Upload to S3", (Category.UPLOAD,)),
    ("download", "Download from S3", (Category.DOWNLOAD,)),
    ("add_to_manifest", "Add to manifest", (Category.ADD_TO_MANIFEST,)),
    ("update_manifest", "Update manifest", (Category.UPDATE_MANIFEST,)),
    ("remove_from_manifest", "Remove from manifest", (Category.REMOVE_FROM_MANIFEST,)),
    ("conflict", "Conflicts", (Category.CONFLICT,)),
    ("delete_local", "Delete local orphans", (Category.DELETE_LOCAL,)),
    ("delete_s3", "Delete S3 orphans", (Category.DELETE_S3,)),
)
GROUP_CATEGORIES = {key: cats for key, _, cats in GROUPS}
GROUP_TITLES = {key: title for key, title, _ in GROUPS}


@dataclass(slots=True)
class Entry:
    """One file of the tree: its path, its size and the age of the side that wins."""

    path: str
    name: str
    size: int
    mtime: float | None
    note: str = ""


@dataclass(slots=True)
class Folder:
    name: str
    path: str  # "" for a group's root, else "images/" (with the slash, as Selection wants)
    folders: dict[str, Folder] = field(default_factory=dict)
    files: list[Entry] = field(default_factory=list)
    count: int = 0
    size: int = 0
    newest: float | None = None

    def add(self, entry: Entry) -> None:
        self.count += 1
        self.size += entry.size
        if entry.mtime is not None and (self.newest is None or entry.mtime > self.newest):
            self.newest = entry.mtime

    def walk_paths(self) -> Iterable[str]:
        for entry in self.files:
            yield entry.path
        for folder in self.folders.values():
            yield from folder.walk_paths()


@dataclass(slots=True)
class Group:
    key: str
    title: str
    root: Folder


class Found(NamedTuple):
    """A file `find` matched: its group, and its place among its folder's rows (folders
    first, then files, as the tree lists them)."""

    group: str
    entry: Entry
    row: int


@dataclass
class TreeModel:
    groups: list[Group]
    # Which groups have files under each folder path: a folder mark may be sent to the
    # engine as "images/" only when no other group has files there.
    folder_groups: dict[str, set[str]]
    # Every file in the tree's order, and its path in any case: made once, off the UI thread.
    _files: list[Found] = field(default_factory=list, repr=False, compare=False)
    _folded: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def total(self) -> int:
        return sum(g.root.count for g in self.groups)

    def group(self, key: str) -> Group | None:
        return next((g for g in self.groups if g.key == key), None)

    def index(self) -> None:
        """List the files for `find` (build_model does, in its worker thread)."""
        self._files = [
            Found(group.key, entry, row)
            for group in self.groups
            for entry, row in _files_in_order(group.root)
        ]
        self._folded = [found.entry.path.casefold() for found in self._files]

    def find(self, query: str) -> list[Found]:
        """The files whose path holds `query` (any case), in the tree's order: one pass over
        strings, never over the tree's widgets."""
        if self._folded is None:
            self.index()
        assert self._folded is not None
        needle = query.casefold()
        return [self._files[i] for i, path in enumerate(self._folded) if needle in path]


def _files_in_order(folder: Folder) -> Iterable[tuple[Entry, int]]:
    """A folder's files as the tree shows them: each subfolder's, then its own."""
    for sub in folder.folders.values():
        yield from _files_in_order(sub)
    first = len(folder.folders)
    for index, entry in enumerate(folder.files):
        yield entry, first + index


def _entry_for(action: Action) -> Entry:
    """Size and age of the copy that sync would keep, so the tree says what will happen."""
    local, remote, recorded = action.local, action.remote, action.recorded
    if action.category == Category.DOWNLOAD and remote is not None:
        size, mtime = remote.size, remote.last_modified
    elif local is not None:
        size, mtime = local.size, local.mtime
    elif remote is not None:
        size, mtime = remote.size, remote.last_modified
    else:
        size, mtime = (recorded.size if recorded else 0), None
    note = f"→ {action.resolved}" if action.resolved else ""
    return Entry(action.path, action.path.rsplit("/", 1)[-1], size, mtime, note)


def build_model(plan: Plan) -> TreeModel:
    """Group a plan's actions and unresolved conflicts; one pass, no I/O."""
    roots = {key: Folder(title, "") for key, title, _ in GROUPS}
    folder_groups: dict[str, set[str]] = {}
    items: list[tuple[str, Entry]] = [(str(a.category), _entry_for(a)) for a in plan.actions]
    for conflict in plan.conflicts:
        newer = max(conflict.local.mtime, conflict.remote.last_modified)
        name = conflict.path.rsplit("/", 1)[-1]
        entry = Entry(conflict.path, name, conflict.local.size, newer, "unresolved")
        items.append(("conflict", entry))
    for issue in plan.issues:
        items.append(("problems", Entry(issue.path, issue.path, 0, None, issue.message)))
    for key, entry in items:
        folder = roots[key]
        folder.add(entry)
        # A problem's path may be anything S3 holds ("../escape.txt"): shown whole, flat.
        parts = [entry.path] if key == "problems" else entry.path.split("/")
        prefix = ""
        for part in parts[:-1]:
            prefix += part + "/"
            folder_groups.setdefault(prefix, set()).add(key)
            child = folder.folders.get(part)
            if child is None:
                child = folder.folders[part] = Folder(part, prefix)
            child.add(entry)
            folder = child
        folder.files.append(entry)
    groups = [Group(key, title, roots[key]) for key, title, _ in GROUPS if roots[key].count]
    model = TreeModel(groups, folder_groups)
    model.index()  # here, in the worker: the first `f` key does no pass over the plan
    return model


@dataclass(frozen=True, slots=True)
class Mark:
    """What `space` toggled: a whole group, a folder of a group, or one file of a group."""

    kind: str  # "group" | "folder" | "file"
    group: str
    path: str = ""

    def describe(self) -> str:
        """A mark in words: "Download from S3: images/down.png", or a whole group's title."""
        title = GROUP_TITLES.get(self.group, self.group)
        return title if self.kind == "group" else f"{title}: {self.path}"


def selection_for(marks: Iterable[Mark], model: TreeModel, direction: str = "both") -> Selection:
    """The engine Selection that runs exactly the marked items (everything when none)."""
    marks = list(marks)
    if not marks:
        return Selection(direction=direction)
    if all(m.kind == "group" for m in marks):
        categories = frozenset(c for m in marks for c in GROUP_CATEGORIES[m.group])
        return Selection(categories=categories, direction=direction)
    paths: set[str] = set()
    for mark in marks:
        group = model.group(mark.group)
        if group is None:
            continue
        own_folder = mark.kind == "folder" and model.folder_groups.get(mark.path) == {mark.group}
        if mark.kind == "file" or own_folder:
            paths.add(mark.path)
        else:
            folder = _find_folder(group.root, mark.path) if mark.kind == "folder" else group.root
            if folder is not None:
                paths.update(folder.walk_paths())
    return Selection(paths=frozenset(paths), direction=direction)


def _find_folder(root: Folder, path: str) -> Folder | None:
    folder: Folder | None = root
    for part in path.rstrip("/").split("/"):
        folder = folder.folders.get(part) if folder is not None else None
    return folder


def still_there(mark: Mark, model: TreeModel) -> bool:
    """Whether a mark made on an older plan still names something in this one."""
    group = model.group(mark.group)
    if group is None or mark.kind == "group":
        return group is not None
    if mark.kind == "folder":
        return _find_folder(group.root, mark.path) is not None
    parent, _, _ = mark.path.rpartition("/")
    folder = _find_folder(group.root, parent) if parent else group.root
    return folder is not None and any(e.path == mark.path for e in folder.files)
