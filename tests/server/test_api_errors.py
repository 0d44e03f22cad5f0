"""Every bad request gets its status and a one-line JSON error, and touches nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import Api, ApiFactory

SYNC = "/api/actors/0042/training-data/comprehensive-sync"


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def known(world: World) -> World:
    world.put_local(ACTOR, "a.txt", b"a")
    world.write_manifest(ACTOR, {"a.txt": b"a"})
    return world


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty body"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"dry_run": true}', 400, 'missing field "actor_name"'),
        (b'{"actor_name": 42}', 400, '"actor_name" must be a string'),
        (b'{"actor_name": "0042_european_30_male", "dry_run": "yes"}', 400, '"dry_run"'),
        (b'{"actor_name": "0042_european_30_male", "delete_orphans": 1}', 400, "true or false"),
        (b'{"actor_name": "0042_european_30_male", "dry-run": true}', 400, "unknown field"),
        (b'{"actor_name": "0042_european_30_male", "conflict": "mine"}', 400, '"conflict"'),
        (b'{"actor_name": "0042_european_30_male", "paths": "a.txt"}', 400, "list of strings"),
        (b'{"actor_name": "0042_european_30_male", "paths": ["../x"]}', 400, "not a path"),
        (b'{"actor_name": "0043_asian_25_female"}', 400, "does not match"),
        (b'{"actor_name": "0042_x/../../etc"}', 400, "actor name"),
        (b'{"actor_name": "../0042_european_30_male"}', 400, "actor name"),
        (b'{"actor_name": ".."}', 400, "actor name"),
        (b'{"actor_name": "/tmp/0042_abs"}', 400, "actor name"),
        (b'{"actor_name": "0042_nul\\u0000x"}', 400, "actor name"),
        (b'{"actor_name": "0042_nobody_here"}', 404, "unknown actor"),
        # Last one wins in json.loads: this ran a real sync (issue 14 item 9).
        (
            b'{"actor_name": "0042_european_30_male", "dry_run": true, "dry_run": false}',
            400,
            "duplicate field 'dry_run'",
        ),
        (b'{"actor_name": "0042_european_30_male", "paths": [{"a": 1, "a": 2}]}', 400, "'a'"),
        # A 500 from a RecursionError before (issue 14 item 11), under the 64 KiB limit.
        pytest.param(
            b'{"actor_name": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
            400,
            "nested too deeply",
            id="nested-lists",
        ),
        # A 500 "internal error" before (issue 22 item 9): int() refuses 4,300+ digits.
        pytest.param(
            b'{"actor_name": "0042_european_30_male", "dry_run": ' + b"9" * 5_000 + b"}",
            400,
            "number too long",
            id="huge-integer",
        ),
        pytest.param(
            b'{"x": ' * 9_000 + b"1" + b"}" * 9_000, 400, "nested too deeply", id="nested-objects"
        ),
    ],
)
def test_bad_sync_requests_are_refused_and_touch_nothing(
    known: World, api: Api, body: bytes, status: int, needle: str
) -> None:
    before = tree(known.root.parent)
    s3_before = known.s3_keys()

    reply = api.call("POST", SYNC, raw=body)

    assert reply.status == status, reply.body
    assert needle in reply.error
    assert reply.headers["Content-Type"].startswith("application/json")
    assert tree(known.root.parent) == before
    assert known.s3_keys() == s3_before


def test_a_body_over_64_kib_is_413(known: World, api: Api) -> None:
    body = json.dumps({"actor_name": ACTOR, "paths": ["x" * 1000] * 70}).encode()
    assert len(body) > 64 * 1024

    reply = api.call("POST", SYNC, raw=body)

    assert reply.status == 413 and "64 KiB" in reply.error


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", SYNC, "POST"),
        ("PUT", SYNC, "POST"),
        ("DELETE", "/api/actors", "GET"),
        ("POST", "/api/actors/0042/training-data/audit?actor_name=" + ACTOR, "GET"),
        ("PATCH", "/api/actors/0042/training-data/sync-history", "GET"),
    ],
)
def test_wrong_method_is_405_with_a_json_error(
    api: Api, method: str, path: str, allowed: str
) -> None:
    reply = api.call(method, path)

    assert reply.status == 405
    assert f"use {allowed}" in reply.error
    assert reply.headers["Allow"] == allowed


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/api/nothing", 404, "no such endpoint"),
        ("/api/actors/0042/training-data/audit", 400, "actor_name"),
        ("/api/actors/0042/training-data/audit?actor_name=0043_other", 400, "does not match"),
        ("/api/actors/0042/training-data/audit?actor_name=0042_ghost", 404, "unknown actor"),
        (f"/api/actors/0042/training-data/audit?actor_name={ACTOR}&conflict=x", 400, "conflict"),
        ("/api/actors?audit=maybe", 400, "audit"),
        ("/api/actors/abc/training-data/sync-history", 400, "digits"),
        ("/api/actors/0042/training-data/sync-history?limit=0", 400, "limit"),
        ("/api/actors/0042/training-data/sync-history?actor_name=..", 400, "actor name"),
    ],
)
def test_bad_reads_get_json_errors(
    known: World, api: Api, path: str, status: int, needle: str
) -> None:
    reply = api.call("GET", path)

    assert reply.status == status, reply.body
    assert needle in reply.error


def test_a_missing_bucket_is_a_clear_503(known: World, start_api: ApiFactory) -> None:
    api = start_api(bucket="no-such-bucket-here")

    for reply in (
        api.sync(ACTOR),
        api.call("GET", "/api/actors"),
        api.call("GET", f"/api/actors/0042/training-data/audit?actor_name={ACTOR}"),
    ):
        assert reply.status == 503, reply.body
        assert "bucket 'no-such-bucket-here' does not exist" in reply.error


def test_a_bad_manifest_is_422_for_the_audit_and_an_error_in_the_sync_report(
    world: World, api: Api
) -> None:
    world.put_local(ACTOR, "a.txt", b"a")
    (world.actor_dir(ACTOR) / "manifest.json").write_text("{broken")

    audit = api.call("GET", f"/api/actors/0042/training-data/audit?actor_name={ACTOR}")
    sync = api.sync(ACTOR)
    listed = api.call("GET", "/api/actors").json["actors"]

    assert audit.status == 422 and "manifest" in audit.error
    assert sync.status == 200 and len(sync.json["errors"]) == 1
    assert (world.actor_dir(ACTOR) / "manifest.json").read_text() == "{broken"
    assert "manifest" in listed[0]["error"]


def test_an_unexpected_failure_is_a_one_line_500(known: World, api: Api) -> None:
    # The state folder (locks, history) is a file: the lock cannot be created.
    (known.root / ".trainsync").write_text("not a folder")

    reply = api.sync(ACTOR)

    assert reply.status == 500, reply.body
    assert "Not a directory" in reply.error
    assert (known.root / ".trainsync").read_text() == "not a folder"
