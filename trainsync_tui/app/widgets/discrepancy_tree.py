"""The discrepancy tree: groups → folders → files, materialised lazily and in batches."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import humanize
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from trainsync_tui.app.fit import fit_text
from trainsync_tui.app.glyphs import UNICODE, Glyphs
from trainsync_tui.app.keys import MOVES
from trainsync_tui.app.models.tree_model import Entry, Folder, Found, Mark, TreeModel

PROBLEMS = "problems"
BATCH = 500  # children added per expansion: a folder of 100k files opens instantly
WINDOW = 100  # rows a search jump opens around a match it has to show (a key's work)
NOTE_WIDTH = 50  # a note's lines before the tree knows its width


@dataclass
class NodeData:
    kind: str  # "group" | "folder" | "file" | "more" | "earlier" | "note"
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
        # Only while a search is on (`f`); else they are the screen's (dry run, cancel).
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "next_match(-1)", "Previous match", show=False),
        Binding("escape", "end_search", "End search", show=False),
    ]

    class Searched(Message):
        """What the search says now ("3 of 17", "no file"), "" once it ends."""

        def __init__(self, said: str) -> None:
            super().__init__()
            self.said = said

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
        self.note = ""  # shown instead of a plan
        self.query = ""  # what `f` looks for; "" when no search is on
        self.matches: list[Found] = []
        self.match = -1

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
        if model is not self.model:
            self.end_search()
        same_actor = bool(owner) and owner == self.owner
        line = self.cursor_line if same_actor else 0
        opened = self._opened(self.root) if same_actor else set()
        self.model, self.marks, self.owner = model, marks, owner
        self.clear()
        if model is None or not model.groups:
            self.note = self.glyphs.text(note or "nothing to do")
            self._show_note()
            return
        self.note = ""
        for group in model.groups:
            data = NodeData("group", group.key, group.root)
            self.root.add(self._label(data), data, allow_expand=True)
        self._reopen(self.root, opened)  # what was open stays open (first batch of each)
        self.cursor_line = max(0, min(line, self.last_line))

    def _show_note(self) -> None:
        """A note (an actor's error: a bad manifest's path, why, what to do) wrapped over as
        many lines as it takes: a tree line would cut it at "(it was left"."""
        width = self.scrollable_content_region.width or NOTE_WIDTH
        for line in textwrap.wrap(self.note, max(10, width)) or [""]:
            self.root.add_leaf(Text(line), NodeData("note"))

    def on_resize(self) -> None:
        if self.note:  # wrapped anew to the new width
            self.clear()
            self._show_note()

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
        elif data is not None and data.kind == "earlier" and parent is not None and parent.data:
            self._load_window(parent, parent.data, data.offset)

    def _load(
        self, node: TreeNode[NodeData], data: NodeData, start: int, count: int = BATCH
    ) -> None:
        folder = data.folder
        assert folder is not None
        inherited = self.is_marked(node)
        folders = list(folder.folders.values())
        stop = start + count
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

    def _load_window(
        self, node: TreeNode[NodeData], data: NodeData, start: int, count: int = BATCH
    ) -> None:
        """Rows `start`… of a folder, instead of all rows before them: a search that jumps
        to file 29,000 of a folder opens a window there, not 29,000 rows."""
        node.remove_children()
        if start > 0:
            earlier = NodeData("earlier", data.group, offset=max(0, start - BATCH))
            label = f"… {start:,} before (enter shows {min(start, BATCH)})"
            node.add_leaf(Text(self.glyphs.text(label)), earlier)
        self._load(node, data, start, count)

    # -- search ----------------------------------------------------------------------------

    def search(self, query: str) -> str:
        """Look for `query` in the paths and move to the first match; returns what the
        search says ("3 of 17 (n N)"); "" ends the search."""
        if not query:
            self.end_search()
            return ""
        if not self.query:
            self.refresh_bindings()
        self.query = query
        self.matches = self.model.find(query) if query and self.model is not None else []
        self.match = -1
        return self.next_match() if self.matches else self._said()

    def next_match(self, step: int = 1) -> str:
        """Move to the next (or, with -1, the previous) match, round the end."""
        if self.matches:
            self.match = (self.match + step) % len(self.matches)
            node = self._reveal(self.matches[self.match])
            if node is not None:
                _ = self.last_line  # places the rows just opened, so the node has its line
                self.move_cursor(node)
        return self._said()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With no search on, n, N and escape are the screen's (dry run, cancel), footer too.
        return bool(self.query) or action not in ("next_match", "end_search")

    def action_next_match(self, step: int = 1) -> None:
        self.next_match(step)

    def action_end_search(self) -> None:
        self.end_search()

    def end_search(self) -> None:
        if self.query:
            self.query, self.matches, self.match = "", [], -1
            self.refresh_bindings()
            self.post_message(self.Searched(""))

    def _said(self) -> str:
        if not self.query:
            return ""
        if not self.matches:
            said = "no file"
        else:
            said = f"{self.match + 1:,} of {len(self.matches):,} (n N)"
        self.post_message(self.Searched(said))
        return said

    def _reveal(self, found: Found) -> TreeNode[NodeData] | None:
        """Open the group and folders down to a match (only those) and return its row."""
        node = next((c for c in self.root.children if c.data and c.data.group == found.group), None)
        if node is None or node.data is None or node.data.folder is None:
            return None
        folder = node.data.folder
        parts = [found.entry.path] if found.group == PROBLEMS else found.entry.path.split("/")
        for part in parts[:-1]:
            row = list(folder.folders).index(part)
            folder = folder.folders[part]
            node = self._child(self._open(node), row, lambda d, f=folder: d.folder is f)
        entry = found.entry
        return self._child(self._open(node), found.row, lambda d: d.entry is entry)

    def _open(self, node: TreeNode[NodeData]) -> TreeNode[NodeData]:
        data = node.data
        if data is not None and not data.loaded:
            data.loaded = True
            self._load(node, data, 0)
        node.expand()
        return node

    def _child(
        self, node: TreeNode[NodeData], row: int, is_it: Callable[[NodeData], bool]
    ) -> TreeNode[NodeData]:
        """The child at a folder's `row`: among those shown (a batch or a few), or else in
        a WINDOW of rows opened where it is."""
        for child in node.children:
            if child.data is not None and is_it(child.data):
                return child
        assert node.data is not None
        self._load_window(node, node.data, row // WINDOW * WINDOW, WINDOW)
        return next(c for c in node.children if c.data is not None and is_it(c.data))

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

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        """The label cut to the line's cells with "…" between words, never in a number
        (the tree's overflow would crop "200.0M" to "200.")."""
        label = super().render_label(node, base_style, style)
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth += 1
            parent = parent.parent
        width = self.scrollable_content_region.width - depth * self.guide_depth
        return fit_text(label, width, self.glyphs.text("…")) if width > 0 else label

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
