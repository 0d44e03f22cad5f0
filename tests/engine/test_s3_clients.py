"""Each run has its own S3 client (so that its cancel closes only its connections); hooks
registered on Engine.client still see every run's requests."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from trainsync_tui.engine.cancel import CancelToken

ACTOR = "0042_european_30_male"


def test_a_hook_on_the_engine_client_sees_the_requests_of_every_run(world: World) -> None:
    world.put_local(ACTOR, "a.txt", b"a")
    engine = world.engine()
    seen: list[str] = []

    def hook(**kwargs: Any) -> None:
        seen.append(kwargs["model"].name)

    running = CancelToken()
    engine.client_for(running)  # a run that began before the hook was registered
    engine.client.meta.events.register("after-call.s3", hook)
    try:
        # An audit lists folder by folder plus one flat page that checks the walk.
        engine.audit(engine.actor(ACTOR), cancel=running)
        assert seen == ["ListObjectsV2"] * 2
        engine.audit(engine.actor(ACTOR), cancel=CancelToken())  # a run that begins after it
        assert seen == ["ListObjectsV2"] * 4
        engine.client.meta.events.unregister("after-call.s3", hook)
        engine.audit(engine.actor(ACTOR), cancel=CancelToken())
        engine.audit(engine.actor(ACTOR), cancel=running)
        assert seen == ["ListObjectsV2"] * 4
    finally:
        engine.close()


def test_each_run_has_a_client_of_its_own(world: World) -> None:
    engine = world.engine()
    first, second = CancelToken(), CancelToken()
    try:
        assert engine.client_for(first) is engine.client_for(first)
        assert engine.client_for(first) is not engine.client_for(second)
        assert engine.client_for(None) is engine.client
    finally:
        engine.close()
