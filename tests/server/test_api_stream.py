"""NDJSON progress over real HTTP, and a client that hangs up mid-transfer cancelling cleanly."""

from __future__ import annotations

import http.client
import json
from typing import Any

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, SEED_KEYS
from tests.server.conftest import SYNC_PATH, Api, ApiFactory, wait_until

MiB = 1024 * 1024


def read_lines(response: Any) -> list[dict[str, Any]]:
    lines = []
    while raw := response.readline():
        lines.append(json.loads(raw))
    return lines


def test_ndjson_streams_events_then_the_report(world: World, api: Api) -> None:
    for n in range(6):
        world.put_local(ACTOR, f"up/{n}.bin", bytes([n]) * 5000)
        world.put_s3(ACTOR, f"down/{n}.bin", bytes([n + 50]) * 7000)

    conn, response = api.open_stream(ACTOR)
    try:
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/x-ndjson"
        lines = read_lines(response)
    finally:
        conn.close()

    kinds = [line["event"] for line in lines]
    assert kinds[-1] == "report" and kinds.count("report") == 1
    report = lines[-1]
    assert [k for k in report if k != "event"][: len(SEED_KEYS)] == SEED_KEYS
    assert (report["uploaded"], report["downloaded"], report["added_to_manifest"]) == (6, 6, 12)
    assert kinds[0] == "stage" and lines[0]["stage"] == "scan"
    started = {line["path"] for line in lines if line["event"] == "file_started"}
    done = {line["path"] for line in lines if line["event"] == "file_done"}
    expected = {f"up/{n}.bin" for n in range(6)} | {f"down/{n}.bin" for n in range(6)}
    assert started == done == expected
    progress = [line for line in lines if line["event"] == "progress"]
    assert progress, kinds
    final = progress[-1]
    assert (final["files_done"], final["files_total"]) == (12, 12)
    assert final["bytes_done"] == final["bytes_total"] == 6 * 5000 + 6 * 7000
    assert all(line["actor"] == ACTOR for line in lines[:-1])


def slow_api_and_big_clips(world: World, start_api: ApiFactory) -> tuple[Api, dict[str, bytes]]:
    """An API that moves one 5 MiB part at a time, and three 11 MiB multipart objects in S3
    only: a sync of 33 MiB is long enough to hang up in."""
    api = start_api(concurrency=1, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    files = {f"clip{n}.bin": (bytes([n]) * 4093 + b"\n") * (11 * MiB // 4094) for n in range(3)}
    for path, data in files.items():
        world.put_s3(ACTOR, path, data, multipart=True)
    return api, files


def test_a_client_that_hangs_up_cancels_the_sync_cleanly(
    world: World, start_api: ApiFactory
) -> None:
    api, files = slow_api_and_big_clips(world, start_api)
    world.write_manifest(ACTOR, {})
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"
    layout = api.engine.actor(ACTOR)

    conn, response = api.open_stream(ACTOR)
    assert response.status == 200
    while json.loads(response.readline())["event"] != "file_started":
        pass
    wait_until(
        lambda: staging.is_dir() and any(p.stat().st_size for p in staging.iterdir()),
        "the first download to write bytes",
    )
    # The server still answers while the sync runs, and says who is syncing the actor.
    listed = api.call("GET", "/api/actors?audit=0")
    assert listed.status == 200
    assert listed.json["actors"][0]["syncing"].startswith("trainsync serve (pid")
    conn.sock.close()  # hang up mid-transfer, like a closed browser tab or a killed curl
    response.close()

    entry = wait_until(
        lambda: next(iter(api.engine.history(ACTOR, 1)), None), "the sync to record its end"
    )
    assert entry.cancelled is True, entry
    assert api.engine.lock_holder(layout) is None
    # Only what a cancelled download keeps for resume (issue 17) may stay.
    assert [p.name for p in staging.iterdir()] in ([], ["partial"])
    top = world.actor_dir(ACTOR) / "training_data"
    done = [p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()]
    assert len(done) < len(files)
    for path in done:
        assert (top / path).read_bytes() == files[path], path
    manifest = world.manifest(ACTOR)  # valid JSON, and only what finished is recorded
    assert set(manifest["files"]) <= set(done)
    assert all(e["md5"] == md5(files[p]) for p, e in manifest["files"].items())

    again = api.sync(ACTOR)
    assert again.status == 200 and again.json["errors"] == [], again.body
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}


def test_a_plain_request_whose_client_hangs_up_still_finishes(
    world: World, start_api: ApiFactory
) -> None:
    """Schedulers with short HTTP timeouts still make progress; the result is in history."""
    api, files = slow_api_and_big_clips(world, start_api)
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    conn.request("POST", SYNC_PATH.format(id="0042"), json.dumps({"actor_name": ACTOR}))

    wait_until(
        lambda: staging.is_dir() and any(p.stat().st_size for p in staging.iterdir()),
        "the first download to write bytes",
    )
    conn.close()

    entry = wait_until(
        lambda: next(iter(api.engine.history(ACTOR, 1)), None), "the sync to record its end"
    )
    assert entry.cancelled is False and entry.counts["downloaded"] == 3, entry
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
