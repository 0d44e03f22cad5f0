"""The guard on botocore_sockets.py, the one module that reads private names of botocore and
urllib3: the day a release moves one, these fail naming it and the versions installed."""

from __future__ import annotations

import logging
import socket

import pytest

from tests.conftest import World
from trainsync_tui.engine.s3 import botocore_sockets
from trainsync_tui.engine.s3.botocore_sockets import missing, track_sockets, versions
from trainsync_tui.engine.s3.client import make_client


def test_the_private_names_botocore_sockets_reads_are_still_there(world: World) -> None:
    gone = missing(make_client(world.settings))

    assert gone == [], (
        f"{', '.join(gone)} moved in {versions()}: follow it in "
        "trainsync_tui/engine/s3/botocore_sockets.py (a cancel cannot shut sockets down meanwhile)"
    )


def test_a_client_reports_its_socket_before_it_connects(world: World) -> None:
    client = make_client(world.settings)
    reported: list[tuple[socket.socket, bool]] = []

    def opened(sock: socket.socket) -> None:
        try:
            sock.getpeername()
        except OSError:
            reported.append((sock, False))
        else:
            reported.append((sock, True))

    assert track_sockets(client, opened)
    client.list_objects_v2(Bucket=world.bucket)

    # Without the report before connect(), a cancel no longer ends a connect to a host
    # that drops packets (urllib3 stopped calling _new_conn, or calls it differently).
    assert [connected for _, connected in reported] == [False, True], (
        f"{botocore_sockets.NEW_CONN} is no longer how urllib3 opens a socket in "
        f"{versions()}: follow it in trainsync_tui/engine/s3/botocore_sockets.py"
    )
    assert reported[0][0] is reported[1][0]  # plain HTTP: one socket, connected in between


def test_without_those_names_a_client_still_works_and_says_why_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    class Moved:  # a client of a botocore whose _endpoint moved
        pass

    with caplog.at_level(logging.WARNING, logger=botocore_sockets.__name__):
        assert not track_sockets(Moved(), lambda _: None)
        assert not track_sockets(Moved(), lambda _: None)

    assert [r.getMessage() for r in caplog.records] == [
        f"a cancel waits for a timeout: botocore BaseClient._endpoint not found ({versions()})"
    ]
