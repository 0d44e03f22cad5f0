"""The API's audit lists what interrupted runs kept for resume, and its sync-history shows
restores beside syncs, typed the same way as the CLI's (issue 25 item 7)."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.server.conftest import Api
from tests.test_cli_restore import trash_an_orphan_of_each_kind
from trainsync_tui.cli import main
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.resumable_get import Partial

MiB = 1024 * 1024


def test_the_audit_lists_a_partial_download_kept_for_resume(world: World, api: Api) -> None:
    data = bytes(range(256)) * (24 * MiB // 256)
    world.put_s3(ACTOR, "ckpt/model.bin", data, multipart=True)
    key = world.key(ACTOR, "ckpt/model.bin")
    etag = world.s3.head_object(Bucket=world.bucket, Key=key)["ETag"].strip('"')
    # What a download cut at 9 MiB leaves, written as the transfer layer writes it.
    folder = world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial"
    folder.mkdir(parents=True)
    partial = Partial.of(folder, key)
    partial.data.write_bytes(data[: 9 * MiB])
    partial.keep(RemoteObject("ckpt/model.bin", key, len(data), etag, 0, None), [(0, 9 * MiB)])

    reply = api.call("GET", f"/api/actors/0042/training-data/audit?actor_name={ACTOR}")

    assert reply.status == 200, reply.body
    assert reply.json["kept_for_resume"] == {
        "bytes": 9 * MiB,
        "downloads": [{"path": "ckpt/model.bin", "size": len(data), "bytes_kept": 9 * MiB}],
        "uploads": [],
    }


def test_sync_history_shows_a_restore(
    world: World, api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp = trash_an_orphan_of_each_kind(world, capsys)
    assert main(["restore", ACTOR, stamp, *world.cli_flags()]) == 0

    history = api.call("GET", "/api/actors/0042/training-data/sync-history").json["history"]

    assert [e["kind"] for e in history] == ["restore", "sync"]
    assert history[0]["stamp"] == stamp
    assert history[0]["counts"] == {"restored_local": 2, "restored_s3": 2}
