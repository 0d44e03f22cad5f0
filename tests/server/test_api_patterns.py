"""Issue 25 item 5 through the API: a sync whose `only` (or `exclude`) matches no file of the
actor is a 400 in the CLI's words (its exit 2), naming the pattern and the nearest paths,
not a 200 "nothing to do" that a scheduled call with a typo would hear for ever."""

from __future__ import annotations

import json

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import Api

FILES = ("session_01/a.wav", "session_02/b.wav")


def in_sync(world: World) -> None:
    world.put_in_sync(ACTOR, {p: p.encode() for p in FILES})
    world.put_local(ACTOR, "session_03/c.wav", b"new")


def test_an_only_that_matches_nothing_is_a_400_naming_the_nearest_paths(
    world: World, api: Api
) -> None:
    in_sync(world)
    reply = api.sync(ACTOR, only=["sesion_*/*"])
    assert reply.status == 400, reply.body
    assert reply.error == (
        "--only 'sesion_*/*' (nearest: 'session_01/a.wav', 'session_02/b.wav', "
        f"'session_03/c.wav') matches no file of {ACTOR} locally, in S3 or in its manifest; "
        "check the pattern (paths are relative to training_data/)"
    )
    assert "session_03/c.wav" not in world.s3_paths(ACTOR)  # refused before it ran
    assert api.engine.history(ACTOR) == []  # not a run


def test_the_stream_is_refused_the_same_way(world: World, api: Api) -> None:
    in_sync(world)
    conn, response = api.open_stream(ACTOR, exclude=["sesion_01/*"])
    try:
        assert response.status == 400
        assert "--exclude 'sesion_01/*'" in json.loads(response.read())["error"]
    finally:
        conn.close()


def test_an_only_that_matches_files_still_syncs_them(world: World, api: Api) -> None:
    in_sync(world)
    reply = api.sync(ACTOR, only=["session_03/*"])
    assert reply.status == 200, reply.body
    assert reply.json["uploaded"] == 1
    assert "session_03/c.wav" in world.s3_paths(ACTOR)
