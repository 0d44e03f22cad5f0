"""A cancel while S3 holds the run's requests (a network gone away mid-sync): the held uploads
end at once and are not reported as failed paths, and giving the lease back waits at most a
second, so the run ends by itself well inside the time S3 holds them."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import Event, FileFailed
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX


def held_then_cancelled(
    world: World, s3_server: S3Server, *, hold_release: bool
) -> tuple[SyncReport, list[Event], FaultProxy]:
    for n in range(4):
        world.put_local(ACTOR, f"c{n}.bin", bytes([n]) * 4096)
    held = threading.Event()

    def holds(request: Request) -> bool:
        if request.method == "PUT" and "/training_data/" in request.target:
            held.set()
            return True
        return hold_release and request.method == "DELETE" and LEASE_SUFFIX in request.target

    events: list[Event] = []
    reports: list[SyncReport] = []
    with FaultProxy(s3_server.port, {"stall": 1.0}, stall_seconds=120, applies=holds) as proxy:
        eng = Engine(dataclasses.replace(world.settings, endpoint_url=proxy.url, concurrency=2))
        cancel = CancelToken()
        run = threading.Thread(
            target=lambda: reports.append(
                eng.sync(eng.actor(ACTOR), SyncOptions(), cancel=cancel, sink=events.append)
            )
        )
        run.start()
        try:
            assert held.wait(60), "no upload reached S3"
            cancel.cancel()
            run.join(10)  # S3 holds every request for 120 s: only the cancel ends them sooner
            assert not run.is_alive(), "the cancelled run waited for S3"
        finally:
            proxy.stop()
            run.join()
            eng.close()
    return reports[0], events, proxy


@pytest.mark.parametrize("hold_release", [False, True], ids=["release answered", "release held"])
def test_a_cancel_ends_held_uploads_without_calling_them_failures(
    world: World, s3_server: S3Server, hold_release: bool
) -> None:
    report, events, _ = held_then_cancelled(world, s3_server, hold_release=hold_release)

    assert report.cancelled and report.counts.uploaded == 0
    assert report.errors == [], report.errors
    assert [e for e in events if isinstance(e, FileFailed)] == []
    # A held upload reached S3 (only its answer was held); the next sync adopts it.
    eng = world.engine()
    try:
        again = eng.sync(eng.actor(ACTOR), SyncOptions())
    finally:
        eng.close()
    assert again.errors == [] and sorted(world.manifest_md5s(ACTOR)) == [
        f"c{n}.bin" for n in range(4)
    ]
    # The proxy forwards a held request and holds only its answer: the release took effect.
    assert [k for k in world.s3_keys() if k.endswith(LEASE_SUFFIX)] == []
