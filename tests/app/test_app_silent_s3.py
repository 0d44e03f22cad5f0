"""S3's state is shown, not awaited (issue 25 item 2, issue 23): the local actors appear
before S3 answers, the header counts the seconds S3 has said nothing, a silent S3 costs the
app one deadline (not one per actor) and leaves the actors marked "S3 unknown"; a live S3
lists every actor's objects once for all their first audits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import FakeSchedule, settle, wait_for
from tests.app.test_app_keys import screen_rows
from tests.conftest import World
from tests.silent_s3 import SilentEndpoint, silent_endpoint
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.models.actor_state import Remote
from trainsync_tui.app.tasks import ActorStatus
from trainsync_tui.app.widgets.actors import ActorsPane
from trainsync_tui.app.widgets.header import ActorHeader
from trainsync_tui.engine.config import Settings

LOCAL = ["0001_alpha", "0002_beta", "0003_gamma"]
DEADLINE = 5.0


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    with silent_endpoint() as endpoint:
        yield endpoint


def shown(app: TrainsyncApp) -> list[str]:
    options = app.query_one(ActorsPane).option_list
    return [options.get_option_at_index(i).id or "" for i in range(options.option_count)]


async def test_a_silent_s3_shows_the_local_actors_counts_its_silence_and_costs_one_deadline(
    silent: SilentEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    for name in LOCAL:
        path = root / "data" / "actors" / name / "training_data" / "a.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"a")
    settings = Settings(
        root=root,
        bucket="hung",
        endpoint_url=silent.url,
        region="us-east-1",
        cache_dir=tmp_path / "cache",
        request_deadline=DEADLINE,
        read_timeout=1.0,
        connect_timeout=1.0,
    )
    app = TrainsyncApp(settings, schedule=FakeSchedule())
    audits: list[str] = []
    monkeypatch.setattr(app.adapter, "audit", lambda task, *_: audits.append(task.actor))
    started = time.monotonic()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shown(app) == LOCAL, timeout=DEADLINE)
        assert not app.main.s3_listed  # on screen while S3 still says nothing
        assert app.main.states[LOCAL[0]].describe(app.tasks.status(LOCAL[0])) == (
            "… waiting for S3"
        )

        header = app.query_one(ActorHeader)
        await wait_for(pilot, lambda: header.s3_wait.startswith("waiting for S3 ("))
        assert header.s3_wait.endswith(f"s, deadline {DEADLINE:g} s)")
        first = header.s3_wait
        await wait_for(pilot, lambda: header.s3_wait not in ("", first))  # it counts
        assert any("waiting for S3 (" in row for row in screen_rows(app))

        await wait_for(pilot, lambda: app.main.s3_listed, timeout=DEADLINE + 10)
        gave_up_after = time.monotonic() - started
        await settle(pilot, app)
        assert header.s3_wait == ""
        for name in LOCAL:  # not blank, and not audited again one deadline each
            state = app.main.states[name]
            assert state.remote == Remote.UNKNOWN and state.status == ActorStatus.ERROR
            assert state.describe() == "✗ S3 unknown" and state.counts() == "✗ error"
        assert audits == []
        assert gave_up_after < DEADLINE + 8  # one deadline (before: one more per 3 actors)
        assert "did not answer ListObjectsV2" in header.message  # one line, in the header
        assert "S3 unknown" in app.main.states[LOCAL[0]].tree_note()
    log = (settings.state_dir / "logs" / "app.log").read_text(encoding="utf-8")
    assert log.count("did not answer") == 1


def count_listings(app: TrainsyncApp) -> list[str]:
    """Every ListObjectsV2 the app's engine sends, on every run's client (the shared
    client's hooks reach them all)."""
    sent: list[str] = []

    def note(request: Any, **_: Any) -> None:
        if "list-type=2" in request.url:
            sent.append(request.url)

    app.engine.client.meta.events.register("before-send.s3.ListObjectsV2", note)
    return sent


async def test_every_actors_first_audit_uses_one_shared_listing_of_a_live_s3(
    world: World,
) -> None:
    names = [f"{i:04d}_actor" for i in range(30)]
    for name in names:
        world.put_in_sync(name, {"same.bin": b"same " + name.encode()})
    world.put_local(names[0], "new.bin", b"new")  # one upload to plan
    world.put_s3("0999_s3_only", "far.bin", b"far")  # joins when S3 answers

    app = TrainsyncApp(world.settings, schedule=FakeSchedule())
    listings = count_listings(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        states = app.main.states
        assert list(states) == [*names, "0999_s3_only"]
        assert shown(app) == [*names, "0999_s3_only"]
        assert all(states[n].status == ActorStatus.OK for n in names[1:])
        assert states[names[0]].status == ActorStatus.DIFF
        assert states["0999_s3_only"].status == ActorStatus.DIFF  # its download
        # The actor names (a folder listing and its check), then one page for all their
        # objects: 31 actors' audits listed nothing of their own (each listed 2+ before).
        assert len(listings) <= 4, listings

        # After a sync S3 changed: the actor's next audit lists afresh, not the old listing.
        before = len(listings)
        app.main.sync_actor(states[names[0]])
        await wait_for(pilot, lambda: app.tasks.of(names[0]) is not None)
        await settle(pilot, app)
        assert states[names[0]].status == ActorStatus.OK
        assert len(listings) > before
