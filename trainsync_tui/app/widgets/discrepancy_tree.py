"""The discrepancy tree: groups → folders → files, materialised lazily and in batches."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import humanize
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from trainsync_tui.app.glyphs import UNICODE, Glyphs
from trainsync_tui.app.keys import MOVES
from trainsync_tui.app.models.tree_model import Entry, Folder, Mark, TreeModel

PROBLEMS = "problems"
BATCH = 500  # children added per expansion: a folder of 100k files opens instantly


@dataclass
class NodeData:
    kind: str  # "group" | "folder" | "file" | "more" | "note"
    group: str = ""
    folder: Folder | None = None
    entry: Entry | None = None
    loaded: bool = False
    offset: int = 0

    @property
    def mark(self) -> Mark | None:
        if self.group == PROBLEMS:  # nothing there can be synced
            return None
        if self.kind == "group":
            return Mark("group", self.group)
        if self.kind == "folder" and self.folder is not None:
            return Mark("folder", self.group, self.folder.path)
        if self.kind == "file" and self.entry is not None:
            return Mark("file", self.group, self.entry.path)
        return None


def age(mtime: float | None, now: float) -> str:
    """ "3 days" old (short: the tree has half of 80 columns)."""
    return humanize.naturaldelta(max(0.0, now - mtime)) if mtime is not None else ""


def size(n: int) -> str:
    return humanize.naturalsize(n, gnu=True)


class DiscrepancyTree(Tree[NodeData]):
    """`space` marks the item under the cursor for selective sync; `enter` opens it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Toggle", tooltip="Select or unselect for sync"),
        *MOVES,
    ]

    class MarksChanged(Message):
        def __init__(self, marks: frozenset[Mark]) -> None:
            super().__init__()
            self.marks = marks

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        glyphs: Glyphs = UNICODE,
        **kwargs: object,
    ) -> None:
        super().__init__("plan", **kwargs)  # type: ignore[arg-type]
        self.glyphs = glyphs
        if glyphs.ascii:  # Textual's own marks and guides, in ASCII
            self.ICON_NODE, self.ICON_NODE_EXPANDED = "+ ", "- "
            self.LINES = {style: ("  ", "| ", "`-", "|-") for style in Tree.LINES}
        self.show_root = False
        self.guide_depth = 2
        self.clock = clock
        self.marks: set[Mark] = set()
        self.model: TreeModel | None = None
        self.owner = ""

    # -- filling -------------------------------------------------------------------------

    def show_model(
        self, model: TreeModel | None, marks: set[Mark], note: str = "", owner: str = ""
    ) -> None:
        """Show a plan's groups (children come when opened); `marks` is the actor's own set.

        The same model again changes nothing (what is open stays open); a new plan of the
        same `owner` keeps the cursor line, so a re-audit does not throw the user to the top.
        """
        if model is not None and model is self.model and marks is self.marks:
            return
        same_actor = bool(owner) and owner == self.owner
        line = self.cursor_line if same_actor else 0
        opened = self._opened(self.root) if same_actor else set()
        self.model, self.marks, self.owner = model, marks, owner
        self.clear()
        if model is None or not model.groups:
            self.root.add_leaf(Text(self.glyphs.text(note or "nothing to do")), NodeData("note"))
            return
        for group in model.groups:
            data = NodeData("group", group.key, group.root)
            self.root.add(self._label(data), data, allow_expand=True)
        self._reopen(self.root, opened)  # what was open stays open (first batch of each)
        self.cursor_line = max(0, min(line, self.last_line))

    def _opened(self, node: TreeNode[NodeData]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for child in node.children:
            data = child.data
            if child.is_expanded and data is not None and data.folder is not None:
                found.add((data.group, data.folder.path))
                found |= self._opened(child)
        return found

    def _reopen(self, node: TreeNode[NodeData], opened: set[tuple[str, str]]) -> None:
        for child in node.children:
            data = child.data
            if data is None or data.folder is None or (data.group, data.folder.path) not in opened:
                continue
            data.loaded = True
            self._load(child, data, 0)
            child.expand()
            self._reopen(child, opened)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        data = event.node.data
        if data is not None and not data.loaded and data.folder is not None:
            data.loaded = True
            self._load(event.node, data, 0)

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        data = event.node.data
        parent = event.node.parent
        if data is not None and data.kind == "more" and parent is not None and parent.data:
            event.node.remove()
            self._load(parent, parent.data, data.offset)

    def _load(self, node: TreeNode[NodeData], data: NodeData, start: int) -> None:
        folder = data.folder
        assert folder is not None
        inherited = self.is_marked(node)
        folders = list(folder.folders.values())
        stop = start + BATCH
        for child in folders[start:stop]:
            child_data = NodeData("folder", data.group, child)
            node.add(self._label(child_data, inherited or None), child_data, allow_expand=True)
        file_start = max(0, start - len(folders))
        file_stop = max(0, stop - len(folders))
        for entry in folder.files[file_start:file_stop]:
            leaf = NodeData("file", data.group, entry=entry)
            node.add_leaf(self._label(leaf, inherited or None), leaf)
        left = len(folders) + len(folder.files) - stop
        if left > 0:
            more = NodeData("more", data.group, offset=stop)
            label = self.glyphs.text(f"… {left:,} more (enter shows {min(left, BATCH)})")
            node.add_leaf(Text(label), more)

    # -- marks ---------------------------------------------------------------------------

    def is_marked(self, node: TreeNode[NodeData]) -> bool:
        current: TreeNode[NodeData] | None = node
        while current is not None and current.data is not None:
            if current.data.mark in self.marks:
                return True
            current = current.parent
        return False

    def action_toggle_mark(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None or node.data.mark is None:
            return
        mark = node.data.mark
        if mark in self.marks:
            self.marks.discard(mark)
        elif self.is_marked(node):
            self.notify("already selected with its folder or group", severity="warning")
            return
        else:
            # A marked folder or group covers its children: drop their own marks.
            self._drop_marks_below(node)
            self.marks.add(mark)
        self._relabel(node)
        parent = node.parent
        while parent is not None and parent.data is not None:  # their [-] may change
            parent.set_label(self._label(parent.data, self.is_marked(parent)))
            parent = parent.parent
        self.post_message(self.MarksChanged(frozenset(self.marks)))

    def _marked_below(self, data: NodeData) -> bool:
        """Something inside this group or folder is marked: its box shows [-]."""
        if data.kind not in ("group", "folder") or data.folder is None:
            return False
        prefix = data.folder.path
        return any(
            m.group == data.group
            and m.kind != "group"
            and m.path.startswith(prefix)
            and m != data.mark
            for m in self.marks
        )

    def _drop_marks_below(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        if data is None:
            return
        prefix = data.folder.path if data.kind == "folder" and data.folder else ""
        for mark in list(self.marks):
            if mark.group == data.group and mark.kind != "group" and mark.path.startswith(prefix):
                self.marks.discard(mark)

    def _relabel(self, node: TreeNode[NodeData]) -> None:
        if node.data is not None:
            node.set_label(self._label(node.data, self.is_marked(node)))
        for child in node.children:
            self._relabel(child)

    # -- labels --------------------------------------------------------------------------

    def _label(self, data: NodeData, marked: bool | None = None) -> Text:
        if marked is None:
            marked = data.mark in self.marks
        box = "[x] " if marked else ("[-] " if self._marked_below(data) else "[ ] ")
        if data.mark is None:
            box = self.glyphs.text("✗ ") if data.kind == "group" else ""
        text = Text(box, style="dim" if box == "[ ] " else "bold")
        now = self.clock()
        if data.kind == "file" and data.entry is not None:
            entry = data.entry
            text.append(entry.name)
            details = [size(entry.size), age(entry.mtime, now)] if data.mark else []
            if entry.note:
                details.append(entry.note)
            text.append(self.glyphs.text(" · " + " · ".join(d for d in details if d)), style="dim")
            return text
        folder = data.folder
        assert folder is not None
        text.append(folder.name + ("/" if data.kind == "folder" else ""), style="bold")
        files = "file" if folder.count == 1 else "files"
        details = [f"{folder.count:,} {files}", size(folder.size)]
        if data.mark is None:
            details = [f"{folder.count:,} {'path' if folder.count == 1 else 'paths'}"]
        if folder.newest is not None:  # the newest file in it
            details.append(age(folder.newest, now))
        text.append(self.glyphs.text(" · " + " · ".join(details)), style="dim")
        return text
