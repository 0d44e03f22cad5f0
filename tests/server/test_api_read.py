"""The read-only companions: actor list with states, audit (nothing changed), sync history."""

from __future__ import annotations

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import Api
from tests.server.test_api_sync import SEED_COUNTS, prepare_seed_actor, snapshot

OTHER = "0043_asian_25_female"


def test_actors_lists_every_actor_with_its_state_counts(world: World, api: Api) -> None:
    prepare_seed_actor(world)
    world.put_s3(OTHER, "only/in_s3.bin", b"s3")  # no local folder: found through S3
    world.put_local("0044_local_only", "a.txt", b"a")
    before = snapshot(world)

    actors = api.call("GET", "/api/actors").json["actors"]

    assert [a["actor_name"] for a in actors] == [ACTOR, OTHER, "0044_local_only"]
    seed = actors[0]
    assert seed["actor_id"] == "0042" and seed["syncing"] is None
    assert seed["counts"] == SEED_COUNTS
    assert seed["states"] == {
        "upload": 5,
        "download": 3,
        "add_to_manifest": 2,
        "update_manifest": 1,
        "remove_from_manifest": 0,
        "conflict": 0,
        "delete_local": 0,
        "delete_s3": 0,
    }
    assert (seed["in_sync"], seed["total_files"], seed["errors"]) == (1, 12, 0)
    assert actors[1]["states"]["download"] == 1 and actors[2]["states"]["upload"] == 1
    assert snapshot(world) == before


def test_actors_with_audit_0_lists_names_only(world: World, api: Api) -> None:
    prepare_seed_actor(world)

    actors = api.call("GET", "/api/actors?audit=0").json["actors"]

    assert actors == [{"actor_name": ACTOR, "actor_id": "0042", "syncing": None}]


def test_audit_is_the_plan_and_changes_nothing(world: World, api: Api) -> None:
    prepare_seed_actor(world)
    world.put_local(ACTOR, "images/conflict.png", b"local")
    world.put_s3(ACTOR, "images/conflict.png", b"s3 side")
    before = snapshot(world)

    reply = api.call("GET", f"/api/actors/0042/training-data/audit?actor_name={ACTOR}")

    assert reply.status == 200, reply.body
    plan = reply.json
    assert plan["actor_name"] == ACTOR and plan["actor_id"] == "0042"
    assert plan["counts"] == SEED_COUNTS
    assert sorted(i["path"] for i in plan["actions"]["upload"]) == [
        f"images/up{n}.png" for n in range(5)
    ]
    assert [c["path"] for c in plan["conflicts"]] == ["images/conflict.png"]
    assert plan["in_sync"] == 1
    assert snapshot(world) == before
    assert api.engine.history(ACTOR) == []  # an audit is not a sync

    newer = api.call(
        "GET", f"/api/actors/0042/training-data/audit?actor_name={ACTOR}&conflict=local"
    ).json
    assert newer["conflicts"] == [] and "conflict" in newer["actions"]


def test_sync_history_is_newest_first_per_actor_id(world: World, api: Api) -> None:
    prepare_seed_actor(world)
    world.put_local(OTHER, "x.txt", b"x")
    assert api.sync(ACTOR, dry_run=True).status == 200
    assert api.sync(OTHER).status == 200
    assert api.sync(ACTOR).status == 200

    mine = api.call("GET", "/api/actors/0042/training-data/sync-history").json
    named = api.call(
        "GET", f"/api/actors/0042/training-data/sync-history?actor_name={ACTOR}&limit=1"
    ).json
    none = api.call("GET", "/api/actors/0099/training-data/sync-history").json

    assert [e["options"]["dry_run"] for e in mine["history"]] == [False, True]
    assert all(e["actor"] == ACTOR for e in mine["history"])
    assert mine["history"][0]["counts"] == SEED_COUNTS
    assert named["actor_name"] == ACTOR and len(named["history"]) == 1
    assert named["history"][0]["options"]["dry_run"] is False
    assert none == {"actor_id": "0099", "actor_name": None, "history": []}
