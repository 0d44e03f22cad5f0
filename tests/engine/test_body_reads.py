"""The one retry loop of the body reads (single_get.py): a body cut off mid-way is fetched
again; a local write that fails is the path's error at once, though s3transfer's list of
retryable errors (which the loop takes) counts every OSError as a socket's."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import TransferError
from trainsync_tui.engine.s3.client import make_client
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.single_get import get_range, get_to_file

DATA = bytes(range(256)) * 4096  # 1 MiB


def _object(world: World) -> RemoteObject:
    world.put_s3("alice", "f.bin", DATA)
    key = world.key("alice", "f.bin")
    etag = str(world.s3.head_object(Bucket=world.bucket, Key=key)["ETag"]).strip('"')
    return RemoteObject("f.bin", key, len(DATA), etag, 0.0, hashlib.md5(DATA).hexdigest())


def _first_get_only() -> Any:
    left = [1]

    def applies(request: Request) -> bool:
        if request.method != "GET" or not left[0]:
            return False
        left[0] -= 1
        return True

    return applies


def _gets(proxy: FaultProxy) -> int:
    return sum(1 for method, _ in proxy.log if method == "GET")


def test_a_body_cut_off_is_fetched_again(world: World, s3_server: S3Server, tmp_path: Path) -> None:
    remote = _object(world)
    temp = tmp_path / "f.part"
    heard: list[int] = []
    with FaultProxy(s3_server.port, {"cut": 1.0}, applies=_first_get_only()) as proxy:
        client = make_client(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        md5 = get_to_file(client, world.bucket, remote, temp, heard.append, CancelToken(), 5)

    assert proxy.counts["cut"] == 1
    assert _gets(proxy) == 2
    assert md5 == remote.md5
    assert temp.read_bytes() == DATA
    assert heard == [len(DATA)]


def test_a_range_cut_off_goes_on_from_its_last_byte(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    remote = _object(world)
    target = tmp_path / "f.part"
    with FaultProxy(s3_server.port, {"cut": 1.0}, applies=_first_get_only()) as proxy:
        client = make_client(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        with open(target, "wb") as handle:
            handle.truncate(len(DATA))
            get_range(
                client, world.bucket, remote, handle, 0, len(DATA), lambda _: None,
                cancel=CancelToken(), attempts=5,
            )  # fmt: skip

    assert proxy.counts["cut"] == 1
    ranges = [h.get("range") for h in proxy.headers]
    assert ranges[0] == f"bytes=0-{len(DATA) - 1}"
    assert ranges[1] is not None and ranges[1] != ranges[0]  # only the rest, not byte 0 again
    assert target.read_bytes() == DATA


def test_a_failed_local_write_is_not_fetched_again(world: World, tmp_path: Path) -> None:
    remote = _object(world)
    client = make_client(world.settings)
    sent: list[str] = []
    client.meta.events.register("before-send.s3.GetObject", lambda **_: sent.append("GET"))

    with pytest.raises(TransferError, match=r"cannot write \(No such file or directory\)"):
        get_to_file(
            client, world.bucket, remote, tmp_path / "gone" / "f.part", lambda _: None,
            CancelToken(), 5,
        )  # fmt: skip
    assert sent == ["GET"]

    sent.clear()
    with (
        open("/dev/full", "wb", buffering=0) as full,
        pytest.raises(TransferError, match=r"cannot write \(No space left on device\)"),
    ):
        get_range(
            client, world.bucket, remote, full, 0, len(DATA), lambda _: None,
            cancel=CancelToken(), attempts=5,
        )  # fmt: skip
    assert sent == ["GET"]
