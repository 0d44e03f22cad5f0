"""A conflict choice waits for the sync that takes its path in (a selective sync of other
paths leaves it pending, and history records only what was applied); escape cancels only
the selected actor's task — real engine, real loopback S3."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets.tree import TreeNode

from tests.app.conftest import FakeSchedule, opened, resolve_conflicts, settle, wait_for
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree, NodeData

ACTOR = "0003_mixed"
OTHER = "0009_other"


def node(tree: DiscrepancyTree, title: str) -> TreeNode[NodeData]:
    return next(n for n in tree.root.children if title in str(n.label))


async def test_a_conflict_choice_survives_a_selective_sync_of_other_paths(
    world: World, schedule: FakeSchedule
) -> None:
    world.put_s3(ACTOR, "images/a.png", b"image")
    world.put_local(ACTOR, "c.txt", b"local side")
    world.put_s3(ACTOR, "c.txt", b"s3 side")
    world.write_manifest(ACTOR, {"c.txt": b"recorded"})
    app = TrainsyncApp(world.settings, ACTOR, schedule=schedule)
    async with opened(app) as pilot:
        await resolve_conflicts(pilot, app, ACTOR, "b", "enter")  # keep both
        tree = app.query_one(DiscrepancyTree)
        tree.focus()
        download = node(tree, "Download from S3")
        download.expand()
        await pilot.pause()
        tree.move_cursor(download.children[0])  # images/
        await pilot.press("space", "s")
        await settle(pilot, app)
        assert world.local_paths(ACTOR) == ["c.txt", "images/a.png"]  # only images/ synced
        assert app.main.states[ACTOR].resolutions == {"c.txt": "keep-both"}  # still pending
        (entry,) = world.engine().history(ACTOR)
        assert entry.options["conflict_choices"] == {}  # none was applied
        conflicts = node(tree, "Conflicts")
        conflicts.expand()
        await pilot.pause()
        assert "→ keep-both" in str(conflicts.children[0].label)  # the tree shows it waits
        await pilot.press("s")  # nothing marked now: everything, the conflict too
        await settle(pilot, app)
        assert app.main.states[ACTOR].resolutions == {}
        assert world.engine().history(ACTOR)[0].options["conflict_choices"] == {"keep-both": 1}
    local = world.local_paths(ACTOR)
    assert len(local) == 3 and "c.txt" in local  # both sides kept, one renamed


async def test_escape_cancels_only_the_selected_actors_sync(
    world: World, schedule: FakeSchedule
) -> None:
    blob = bytes(range(256)) * 32768  # 8 MiB: the sync outlasts the key presses
    for n in range(20):
        world.put_s3(ACTOR, f"frames/{n:04}.bin", blob)
    world.put_local(OTHER, "a.txt", b"a")
    app = TrainsyncApp(replace(world.settings, concurrency=1), ACTOR, schedule=schedule)
    async with opened(app) as pilot:
        app.simulate_key("s")  # not pilot.press: its idle wait could outlast the sync
        await wait_for(pilot, lambda: app.tasks.of(ACTOR) is not None)
        task = app.tasks.of(ACTOR)
        assert task is not None
        app.query_one(ActorsPane).select(OTHER)
        app.simulate_key("escape")  # another actor's sync, maybe out of sight: not cancelled
        await wait_for(pilot, lambda: "ctrl+x" in app.main.states[OTHER].message)
        assert not task.token.cancelled
        app.simulate_key("ctrl+x")  # says what it does: every task
        await wait_for(pilot, lambda: task.token.cancelled)
        await settle(pilot, app)
    assert world.engine().history(ACTOR)[0].cancelled is True
    assert len(world.local_paths(ACTOR)) < 20
