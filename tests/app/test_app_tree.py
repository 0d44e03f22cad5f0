"""The discrepancy tree without S3: batches for huge folders, marks, and the Selection sent."""

from __future__ import annotations

from textual.app import App, ComposeResult

from trainsync_tui.app.models.tree_model import Mark, build_model, selection_for
from trainsync_tui.app.widgets.discrepancy_tree import BATCH, DiscrepancyTree
from trainsync_tui.engine.plan.build import Action, Category, Plan
from trainsync_tui.engine.scanned import LocalFile, RemoteObject


def plan_of(*items: tuple[str, Category]) -> Plan:
    actions = []
    for path, category in items:
        local = LocalFile(path, 10, 0.0, "0" * 32)
        remote = RemoteObject(path, path, 10, '"e"', 0.0, "1" * 32)
        actions.append(Action(path, category, (), local, remote))
    return Plan(tuple(actions), total_paths=len(actions))


class TreeHost(App[None]):
    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        yield DiscrepancyTree(clock=lambda: 0.0)

    def on_mount(self) -> None:
        self.query_one(DiscrepancyTree).show_model(build_model(self.plan), set())


async def test_a_huge_folder_opens_in_batches() -> None:
    files = BATCH * 2 + 7
    plan = plan_of(*((f"frames/{n:05}.bin", Category.UPLOAD) for n in range(files)))
    app = TreeHost(plan)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(DiscrepancyTree)
        group = tree.root.children[0]
        assert str(group.label).startswith(f"[ ] Upload to S3 · {files:,} files")
        group.expand()
        await pilot.pause()
        folder = group.children[0]
        folder.expand()
        await pilot.pause()
        assert len(folder.children) == BATCH + 1
        more = folder.children[-1]
        assert str(more.label).startswith(f"… {files - BATCH:,} more")
        tree.select_node(more)
        await pilot.pause()
        assert len(folder.children) == 2 * BATCH + 1
        assert str(folder.children[BATCH].label).startswith(f"[ ] {BATCH:05}.bin")


async def test_marking_a_group_marks_what_is_shown_under_it() -> None:
    app = TreeHost(plan_of(("a/x.bin", Category.UPLOAD), ("a/y.bin", Category.UPLOAD)))
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(DiscrepancyTree)
        tree.focus()
        await pilot.press("enter", "down", "enter", "down", "space")
        assert tree.marks == {Mark("file", "upload", "a/x.bin")}
        group, folder = tree.root.children[0], tree.root.children[0].children[0]
        assert str(group.label)[:3] == "[-]" and str(folder.label)[:3] == "[-]"  # partly marked
        await pilot.press("up", "up", "space")  # the group covers the file: its mark goes
        assert tree.marks == {Mark("group", "upload")}
        labels = [
            str(n.label)[:3]
            for n in (
                tree.root.children[0],
                *tree.root.children[0].children,
                *tree.root.children[0].children[0].children,
            )
        ]
        assert labels == ["[x]"] * 4


def test_selection_is_exactly_the_marked_items() -> None:
    plan = plan_of(
        ("images/a.png", Category.UPLOAD),
        ("images/b.png", Category.DOWNLOAD),
        ("text/c.txt", Category.UPLOAD),
    )
    model = build_model(plan)
    assert selection_for([], model).is_everything
    only_group = selection_for([Mark("group", "upload")], model, "up")
    assert set(only_group.categories) == {Category.UPLOAD} and only_group.direction == "up"
    # "text/" holds uploads only: sent as a folder; "images/" is shared: its files only.
    folders = selection_for(
        [Mark("folder", "upload", "text/"), Mark("folder", "upload", "images/")], model
    )
    assert set(folders.paths) == {"text/", "images/a.png"}
    mixed = selection_for([Mark("group", "download"), Mark("file", "upload", "text/c.txt")], model)
    assert set(mixed.paths) == {"images/b.png", "text/c.txt"}


async def test_a_new_plan_keeps_open_folders_and_the_marks_that_still_exist() -> None:
    from trainsync_tui.app.models.actor_state import ActorState

    first = plan_of(
        ("a/x.bin", Category.UPLOAD), ("a/y.bin", Category.UPLOAD), ("b/z.bin", Category.DOWNLOAD)
    )
    state = ActorState("actor")
    app = TreeHost(first)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(DiscrepancyTree)
        model = build_model(first)
        state.model = model
        tree.show_model(model, state.marks, owner="actor")
        tree.root.children[0].expand()
        await pilot.pause()
        tree.root.children[0].children[0].expand()
        await pilot.pause()
        state.marks.update({Mark("file", "upload", "a/x.bin"), Mark("file", "upload", "a/y.bin")})
        # The re-audit after a sync of a/x.bin: it is gone from the plan, a/y.bin is not.
        second = plan_of(("a/y.bin", Category.UPLOAD), ("b/z.bin", Category.DOWNLOAD))
        new_model = build_model(second)
        state.set_planned(None, second, new_model)  # type: ignore[arg-type]
        tree.show_model(new_model, state.marks, owner="actor")
        await pilot.pause()
        assert state.marks == {Mark("file", "upload", "a/y.bin")}
        upload = tree.root.children[0]
        assert upload.is_expanded and upload.children[0].is_expanded  # "a/" still open
        assert [str(n.label) for n in upload.children[0].children] == ["[x] y.bin · 10B · a moment"]
        assert not tree.root.children[1].is_expanded  # what was closed stays closed
