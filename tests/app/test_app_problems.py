"""Refused and unreadable paths are part of an actor's state: the list says so with its own
symbol, the tree has a group for them, and the app never says "in sync" while
`trainsync audit` would exit 1 — real engine, real loopback S3."""

from __future__ import annotations

from tests.app.conftest import FakeSchedule, opened, settle
from tests.app.test_app_sync import prompt_of
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.header import ActorHeader

ACTOR = "0047_escape"


async def test_a_refused_s3_key_is_a_problem_and_never_in_sync(
    world: World, schedule: FakeSchedule
) -> None:
    world.put_in_sync(ACTOR, {"a.txt": b"a"})
    world.put_s3(ACTOR, "", b"out", key=f"actors/{ACTOR}/training_data/../escape.txt")
    app = TrainsyncApp(world.settings, ACTOR, schedule=schedule)
    async with opened(app) as pilot:
        assert app.main.status_of(ACTOR) == ActorStatus.PROBLEMS
        assert "✗ 1" in prompt_of(app, ACTOR)
        assert "✓" not in prompt_of(app, ACTOR)
        tree = app.query_one(DiscrepancyTree)
        group = tree.root.children[0]
        assert str(group.label).startswith("✗ Problems")
        group.expand()
        await pilot.pause()
        (problem,) = group.children
        assert "../escape.txt" in str(problem.label)
        tree.focus()
        tree.cursor_line = 0
        await pilot.press("space")  # nothing there can be synced: not markable
        assert app.main.states[ACTOR].marks == set()
        await pilot.press("s")
        await settle(pilot, app)
        assert "in sync" not in app.query_one(ActorHeader).message
        assert app.main.status_of(ACTOR) == ActorStatus.PROBLEMS
        assert "✓" not in prompt_of(app, ACTOR)
    assert world.local_paths(ACTOR) == ["a.txt"]
