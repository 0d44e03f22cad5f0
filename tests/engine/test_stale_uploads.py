"""Unfinished multipart uploads: only ours are aborted by ID, another writer's only after
`stale_upload_days` with no part written since; a server that cannot list them is skipped
with one warning (issue 14 item 4, issue 15 item 3); `trainsync clean` says what it frees."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import World
from tests.s3server import S3Server
from tests.sseproxy import SseProxy
from trainsync_tui.cli import main
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import Event, Message
from trainsync_tui.engine.facade import Engine, SyncOptions

ACTOR = "0016_stale_uploads"
MiB = 1024 * 1024
DAY = 86400.0
BIG = hashlib.sha256(b"big").digest() * (12 * MiB // 32)


def engine(world: World, clock: Any = time.time, **changes: Any) -> Engine:
    settings = dataclasses.replace(
        world.settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, **changes
    )
    return Engine(settings, clock=clock)


def uploads(world: World) -> dict[str, str]:
    listed = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
    return {u["UploadId"]: u["Key"] for u in listed}


def foreign_upload(world: World, path: str, *, with_part: bool) -> str:
    """Another server's upload under way (moto says every upload started in 2010)."""
    key = world.key(ACTOR, path)
    upload_id = world.s3.create_multipart_upload(Bucket=world.bucket, Key=key)["UploadId"]
    if with_part:
        world.s3.upload_part(
            Bucket=world.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * 1000
        )
    return str(upload_id)


def sync(eng: Engine, events: list[Event] | None = None, cancel: CancelToken | None = None):
    sink = events.append if events is not None else (lambda _: None)
    return eng.sync(eng.actor(ACTOR), SyncOptions(), sink=sink, cancel=cancel)


def test_another_writers_running_upload_is_never_aborted(world: World) -> None:
    world.put_local(ACTOR, "mine.txt", b"mine")
    running = foreign_upload(world, "theirs.bin", with_part=True)
    starting = foreign_upload(world, "gone.bin", with_part=False)
    eight_days_on = lambda: time.time() + 8 * DAY  # noqa: E731

    report = sync(engine(world))

    assert report.errors == [] and report.counts.uploaded == 1
    # Started "in 2010" both; the one with a part written just now is someone's live upload,
    # the one without a part may be one just begun: nothing but our own sighting dates it.
    assert running in uploads(world) and starting in uploads(world)
    sync(engine(world, eight_days_on))  # seen unfinished for 8 days, no part in it: gone
    assert starting not in uploads(world)


def test_clean_never_aborts_an_upload_another_server_has_just_begun(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto dates every upload 2010-11-10: a fresh one with no part yet looked years stale,
    # and `trainsync clean` cut another server's upload (issue 22 item 7).
    begun = foreign_upload(world, "theirs.bin", with_part=False)
    world.put_local(ACTOR, "mine.txt", b"mine")

    code, out = clean(world, capsys)

    assert code == 0 and "aborted 0 unfinished uploads" in out, out
    assert begun in uploads(world)


def test_the_stale_age_is_a_setting_and_counts_from_the_last_part(world: World) -> None:
    world.put_local(ACTOR, "mine.txt", b"mine")
    upload = foreign_upload(world, "theirs.bin", with_part=True)
    eight_days_on = lambda: time.time() + 8 * DAY  # noqa: E731

    sync(engine(world, eight_days_on, stale_upload_days=30))
    assert upload in uploads(world)
    sync(engine(world, eight_days_on, stale_upload_days=7))
    assert upload not in uploads(world)


def cancel_after_first_part(world: World) -> str:
    """A sync of big.bin cancelled once its first part is in S3: the upload is kept."""
    world.put_local(ACTOR, "big.bin", BIG)
    eng = engine(world, concurrency=1)
    cancel = CancelToken()
    eng.client.meta.events.register("after-call.s3.UploadPart", lambda **_: cancel.cancel())
    report = sync(eng, cancel=cancel)
    eng.close()
    assert report.cancelled
    (upload_id,) = uploads(world)
    journal = world.actor_dir(ACTOR) / ".trainsync" / "multipart-uploads"
    assert upload_id in journal.read_text()
    return upload_id


def clean(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    flags = [*world.cli_flags(), "--concurrency", "1"]
    code = main(["clean", ACTOR, *args, *flags])
    return code, capsys.readouterr().out


def test_clean_keeps_a_resumable_upload_and_aborts_one_that_never_will_be(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    upload_id = cancel_after_first_part(world)
    other_root = foreign_upload(world, "theirs.bin", with_part=True)

    code, out = clean(world, capsys)
    assert code == 0
    kept = "aborted 0 unfinished uploads, freed 0 Bytes; 1 upload kept to resume"
    assert out.strip() == f"{ACTOR}: {kept}"
    assert upload_id in uploads(world)

    with open(world.local_path(ACTOR, "big.bin"), "ab") as handle:
        handle.write(b"changed")  # its parts can never complete into this file now
    code, out = clean(world, capsys, "--json")
    assert code == 0
    aborted = [world.key(ACTOR, "big.bin")]
    assert json.loads(out) == {
        ACTOR: {"aborted": aborted, "freed_bytes": 5 * MiB, "kept_for_resume": 0}
    }
    assert list(uploads(world)) == [other_root]


@pytest.fixture
def no_listing(s3_server: S3Server) -> Iterator[SseProxy]:
    with SseProxy(s3_server.port, sse=False, list_uploads=False) as proxy:
        yield proxy


def test_a_server_without_upload_listing_syncs_with_one_warning(
    world: World, no_listing: SseProxy
) -> None:
    world.put_local(ACTOR, "a.txt", b"a")
    eng = engine(world, endpoint_url=no_listing.url)
    events: list[Event] = []

    report = sync(eng, events)

    assert report.errors == [] and report.counts.uploaded == 1
    warnings = [e.text for e in events if isinstance(e, Message) and e.level == "warning"]
    assert len(warnings) == 1 and "does not list unfinished multipart uploads" in warnings[0]
    assert no_listing.counts["refused"] == 1


def test_a_cancel_while_s3_holds_the_clean_up_stops_the_sync_at_once(
    world: World, s3_server: S3Server
) -> None:
    import threading

    from tests.reliability.faultproxy import Request, stalling

    world.put_local(ACTOR, "a.bin", b"a")

    def list_uploads(request: Request) -> bool:
        """The clean-up's ListMultipartUploads: held for two minutes."""
        return request.method == "GET" and "uploads" in request.target.partition("?")[2]

    stalled, held = stalling(s3_server.port, list_uploads)
    with stalled as proxy:
        eng = engine(world, endpoint_url=proxy.url)
        cancel = CancelToken()
        reports = []
        worker = threading.Thread(
            target=lambda: reports.append(eng.sync(eng.actor(ACTOR), SyncOptions(), cancel=cancel))
        )
        worker.start()
        try:
            assert held.wait(60), "the sync never listed unfinished uploads"
            cancel.cancel()
            worker.join(10)  # the stall lasts 120 s: only a closed request ends sooner
            assert not worker.is_alive(), "the cancel did not end the held clean-up request"
        finally:
            worker.join()
            eng.close()
    (report,) = reports
    assert report.cancelled and report.counts.uploaded == 0
    assert world.s3_paths(ACTOR) == []


def test_an_upload_created_by_a_run_killed_before_its_journal_line_is_aborted(
    world: World,
) -> None:
    # kill -9 between S3's answer to CreateMultipartUpload and the journal line: no journal
    # names the upload, and with no part it has no date but moto's 2010. The key was noted
    # before the create was sent, so the next run of this root knows the upload is its own.
    from trainsync_tui.engine.transfer.upload_journal import UploadJournal

    eng = engine(world)
    layout = eng.actor(ACTOR)
    UploadJournal(layout.multipart_journal).creating(world.key(ACTOR, "big.bin"))
    dead_runs = foreign_upload(world, "big.bin", with_part=False)
    someone_elses = foreign_upload(world, "theirs.bin", with_part=False)
    world.put_local(ACTOR, "mine.txt", b"mine")

    report = sync(eng)
    eng.close()

    assert report.errors == [] and report.counts.uploaded == 1
    assert dead_runs not in uploads(world)
    assert someone_elses in uploads(world)  # just begun, as far as anyone can tell
    assert UploadJournal(layout.multipart_journal).left_creating() == []
