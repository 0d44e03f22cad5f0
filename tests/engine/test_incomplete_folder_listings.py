"""A server whose folder-by-folder (delimiter) listings leave folders out, as s3rver 3.7 does
for a folder holding only folders: a pull must still bring every object, and say why it
listed flat, never sync silently less than S3 holds (issue 15)."""

from __future__ import annotations

import dataclasses
import http.client
import re
import socket

from tests.conftest import World, md5
from tests.reliability.faultproxy import FaultProxy, Request
from trainsync_tui.bench.loopback_proxy import forward, send
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.s3.listing import INCOMPLETE_FOLDERS

ACTOR = "0015_listing"
# The folder a buggy server drops from its CommonPrefixes: it holds only a folder.
_DROPPED = re.compile(r"<CommonPrefixes><Prefix>[^<]*/audio/</Prefix></CommonPrefixes>")


class DropsFolders(FaultProxy):
    """moto, with `audio/` left out of every delimiter listing's CommonPrefixes."""

    dropped = _DROPPED

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        self._draw(request)
        reply = forward(upstream, request)
        if request.method == "GET" and "delimiter=" in request.target:
            body = self.dropped.sub("", reply.body.decode("utf-8")).encode("utf-8")
            reply = reply._replace(body=body)
        send(client, request, reply)  # with the Content-Length of the shorter body
        return True


def test_a_pull_from_a_server_that_drops_folders_is_complete_and_says_why(
    world: World, s3_server: object
) -> None:
    files = {
        "top.bin": b"top",
        "audio/clips/0001.wav": b"clip one",
        "audio/clips/0002.wav": b"clip two",
        "images/0001.png": b"png",
    }
    for path, data in files.items():
        world.put_s3(ACTOR, path, data)
    with DropsFolders(s3_server.port) as proxy:  # type: ignore[attr-defined]
        eng = Engine(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        messages: list[str] = []
        try:
            report = eng.sync(
                eng.actor(ACTOR),
                SyncOptions(),
                sink=lambda event: messages.append(str(getattr(event, "text", ""))),
            )
        finally:
            eng.close()
        dropped = [t for m, t in proxy.log if m == "GET" and "delimiter=" in t]

    assert dropped, "the sync did not list folder by folder"
    assert report.errors == [] and report.counts.downloaded == len(files)
    for path, data in files.items():
        assert world.read_local(ACTOR, path) == data, path
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in files.items()}
    assert any(INCOMPLETE_FOLDERS in m for m in messages), messages


class DropsActors(DropsFolders):
    """moto, with every actor folder left out of the listing of actors/, as s3rver leaves
    out a folder that holds only folders (an actor holds only training_data/)."""

    dropped = re.compile(r"<CommonPrefixes><Prefix>actors/[^<]*/</Prefix></CommonPrefixes>")


def test_actors_only_in_s3_are_found_on_a_server_that_drops_folders(
    world: World, s3_server: object
) -> None:
    world.put_s3(ACTOR, "a/b.bin", b"only in S3")
    world.put_s3("0016_other", "c.bin", b"only in S3 too")
    world.put_local("0017_local", "d.bin", b"local")
    with DropsActors(s3_server.port) as proxy:  # type: ignore[attr-defined]
        eng = Engine(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        try:
            names = eng.actor_names()
            again = eng.actor_names()  # the server is known now: no delimiter listing
        finally:
            eng.close()
        listings = [t for m, t in proxy.log if m == "GET" and "list-type=2" in t]

    assert names == again == ["0015_listing", "0016_other", "0017_local"]
    assert sum("delimiter=" in t for t in listings) == 1
