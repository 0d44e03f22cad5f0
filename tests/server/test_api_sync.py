"""POST comprehensive-sync over real HTTP: the seed's body and keys, dry run, selective, 409."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, SEED_KEYS
from tests.server.conftest import Api, ApiFactory
from trainsync_tui.engine.local.flock import actor_lock

SEED_BODY = {"actor_name": ACTOR, "delete_orphans": False, "dry_run": False}
SEED_COUNTS = {
    "uploaded": 5,
    "downloaded": 3,
    "added_to_manifest": 2,
    "updated_in_manifest": 1,
    "removed_from_manifest": 0,
    "deleted_local": 0,
    "deleted_s3": 0,
}


def prepare_seed_actor(world: World) -> dict[str, bytes]:
    """An actor whose sync gives exactly the seed's response counts; returns the end state."""
    files: dict[str, bytes] = {}
    recorded: dict[str, bytes | str] = {}
    for n in range(5):  # local and recorded, missing in S3 → uploaded
        path, data = f"images/up{n}.png", f"up {n}".encode() * 50
        world.put_local(ACTOR, path, data)
        files[path] = recorded[path] = data
    for n in range(3):  # in S3 and recorded, missing locally → downloaded
        path, data = f"audio/down{n}.wav", f"down {n}".encode() * 70
        world.put_s3(ACTOR, path, data)
        files[path] = recorded[path] = data
    for n in range(2):  # same bytes on both sides, not recorded → added_to_manifest
        path, data = f"text/adopt{n}.txt", f"adopt {n}".encode()
        world.put_local(ACTOR, path, data)
        world.put_s3(ACTOR, path, data)
        files[path] = data
    stale = b"rehashed on both sides"  # local = S3 ≠ manifest → updated_in_manifest
    world.put_local(ACTOR, "text/rehash.txt", stale)
    world.put_s3(ACTOR, "text/rehash.txt", stale)
    files["text/rehash.txt"] = stale
    recorded["text/rehash.txt"] = md5(b"what it used to be")
    same = b"in sync everywhere"
    world.put_local(ACTOR, "text/same.txt", same)
    world.put_s3(ACTOR, "text/same.txt", same)
    files["text/same.txt"] = recorded["text/same.txt"] = same
    world.write_manifest(ACTOR, recorded)
    return files


def snapshot(world: World, actor: str = ACTOR) -> tuple[Any, ...]:
    manifest = world.actor_dir(actor) / "manifest.json"
    return (
        world.local_paths(actor),
        world.s3_paths(actor),
        manifest.read_bytes() if manifest.exists() else None,
    )


def assert_converged(world: World, files: dict[str, bytes], actor: str = ACTOR) -> None:
    assert world.local_paths(actor) == sorted(files)
    assert world.s3_paths(actor) == sorted(files)
    assert world.manifest_md5s(actor) == {p: md5(d) for p, d in files.items()}
    for path, data in files.items():
        assert world.read_local(actor, path) == data
        assert world.read_s3(actor, path) == data


def test_the_seeds_request_body_gives_the_seeds_response(world: World, api: Api) -> None:
    files = prepare_seed_actor(world)

    reply = api.call("POST", "/api/actors/0042/training-data/comprehensive-sync", SEED_BODY)

    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    report = reply.json
    assert list(report)[: len(SEED_KEYS)] == SEED_KEYS
    assert {k: report[k] for k in SEED_COUNTS} == SEED_COUNTS
    assert report["errors"] == []
    assert report["actor_name"] == ACTOR and report["actor_id"] == "0042"
    assert report["dry_run"] is False and report["cancelled"] is False
    assert_converged(world, files)
    history = api.call("GET", "/api/actors/0042/training-data/sync-history").json["history"]
    assert history[0]["via"] == "trainsync serve" and history[0]["counts"] == SEED_COUNTS


def test_the_two_flags_are_optional(world: World, api: Api) -> None:
    files = prepare_seed_actor(world)

    reply = api.sync(ACTOR)

    assert reply.status == 200, reply.body
    assert {k: reply.json[k] for k in SEED_COUNTS} == SEED_COUNTS
    assert_converged(world, files)


def test_dry_run_reports_the_same_counts_and_changes_nothing(world: World, api: Api) -> None:
    prepare_seed_actor(world)
    before = snapshot(world)

    reply = api.sync(ACTOR, dry_run=True, delete_orphans=False)

    assert reply.status == 200, reply.body
    assert reply.json["dry_run"] is True
    assert {k: reply.json[k] for k in SEED_COUNTS} == SEED_COUNTS
    assert snapshot(world) == before


def test_selective_paths_sync_only_those_files_and_folders(world: World, api: Api) -> None:
    prepare_seed_actor(world)

    reply = api.sync(ACTOR, paths=["images/up0.png", "audio"])

    assert reply.status == 200, reply.body
    assert reply.json["uploaded"] == 1 and reply.json["downloaded"] == 3
    assert reply.json["added_to_manifest"] == 0
    s3 = world.s3_paths(ACTOR)
    assert "images/up0.png" in s3 and "images/up1.png" not in s3
    assert {"audio/down0.wav", "audio/down1.wav", "audio/down2.wav"} <= set(
        world.local_paths(ACTOR)
    )


def test_delete_orphans_with_force_deletes_to_trash(world: World, api: Api) -> None:
    world.put_local(ACTOR, "kept.txt", b"kept")
    world.put_s3(ACTOR, "kept.txt", b"kept")
    world.put_local(ACTOR, "orphan.txt", b"not in the manifest")
    world.write_manifest(ACTOR, {"kept.txt": b"kept"})

    reply = api.sync(ACTOR, delete_orphans=True, force=True, conflict="newer")

    assert reply.status == 200, reply.body
    assert reply.json["deleted_local"] == 1 and reply.json["errors"] == []
    assert world.local_paths(ACTOR) == ["kept.txt"]
    trash = world.actor_dir(ACTOR) / ".trainsync" / "trash"
    assert [p.read_bytes() for p in trash.rglob("orphan.txt")] == [b"not in the manifest"]


def test_a_sync_held_by_another_front_end_gives_one_409_naming_it(world: World, api: Api) -> None:
    files = prepare_seed_actor(world)
    before = snapshot(world)

    # The CLI (here: this test) holds the actor's lock, as a running `trainsync sync` would.
    with actor_lock(world.settings.state_dir, ACTOR, "trainsync cli"):
        busy = api.call("POST", "/api/actors/0042/training-data/comprehensive-sync", SEED_BODY)
        streamed = api.call(
            "POST",
            "/api/actors/0042/training-data/comprehensive-sync",
            SEED_BODY,
            headers={"Accept": "application/x-ndjson"},
        )
        listed = api.call("GET", "/api/actors?audit=0").json["actors"]
        assert snapshot(world) == before

    assert busy.status == 409 and streamed.status == 409
    assert "trainsync cli (pid" in busy.error and "already being synced" in busy.error
    assert streamed.error == busy.error
    assert next(a["syncing"] for a in listed if a["actor_name"] == ACTOR).startswith(
        "trainsync cli (pid"
    )
    again = api.call("POST", "/api/actors/0042/training-data/comprehensive-sync", SEED_BODY)
    assert again.status == 200, again.body
    assert_converged(world, files)


def test_different_actors_sync_concurrently(world: World, start_api: ApiFactory) -> None:
    """Several requests at once: each runs in its own thread and reports its own actor."""
    from concurrent.futures import ThreadPoolExecutor

    api = start_api()
    actors = [f"00{n}_actor_{n}" for n in range(50, 53)]
    for n, actor in enumerate(actors):
        world.put_local(actor, "a.bin", bytes([n]) * 1000)
        world.put_s3(actor, "b.bin", bytes([n + 100]) * 1000)
    with ThreadPoolExecutor(len(actors)) as pool:
        replies = list(pool.map(lambda a: api.sync(a), actors))

    for actor, reply in zip(actors, replies, strict=True):
        assert reply.status == 200, reply.body
        report = reply.json
        assert report["actor_name"] == actor
        assert (report["uploaded"], report["downloaded"], report["added_to_manifest"]) == (1, 1, 2)
        assert sorted(
            json.loads((world.actor_dir(actor) / "manifest.json").read_text())["files"]
        ) == ["a.bin", "b.bin"]
