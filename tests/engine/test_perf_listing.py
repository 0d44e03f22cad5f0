"""The lean listing keeps its meaning: times as text parse right, clashes and issues survive."""

from __future__ import annotations

import time
import unicodedata

from tests.conftest import World
from trainsync_tui.engine.run.stale_uploads import Sightings, stale_multipart_uploads
from trainsync_tui.engine.s3.client import epoch, make_client
from trainsync_tui.engine.s3.listing import scan_remote

ACTOR = "a1_alpha"
PREFIX = f"actors/{ACTOR}/training_data/"


def test_listed_times_match_what_s3_reports(world: World) -> None:
    world.put_s3(ACTOR, "a/one.bin", b"1")
    world.put_s3(ACTOR, "b/two.bin", b"22")
    plain = {
        o["Key"]: o["LastModified"].timestamp()
        for o in world.s3.list_objects_v2(Bucket=world.bucket, Prefix=PREFIX)["Contents"]
    }
    scan = scan_remote(make_client(world.settings), world.bucket, PREFIX, workers=4)
    assert {o.key: o.last_modified for o in scan.objects.values()} == plain
    assert all(t > 1_000_000_000 for t in plain.values())


def test_engine_client_keeps_times_as_text_and_epoch_reads_every_form(world: World) -> None:
    world.put_s3(ACTOR, "x.bin", b"x")
    client = make_client(world.settings)
    listed = client.list_objects_v2(Bucket=world.bucket, Prefix=PREFIX)["Contents"][0]
    assert isinstance(listed["LastModified"], str)  # no dateutil on the hot path
    expected = 1_795_619_334.0
    assert epoch("2026-11-25T15:08:54.000Z") == expected
    assert epoch("2026-11-25T15:08:54Z") == expected
    assert epoch("Wed, 25 Nov 2026 15:08:54 GMT") == expected
    assert epoch(None) == 0.0


def test_stale_multipart_uploads_reads_text_times(world: World) -> None:
    client = make_client(world.settings)
    key = f"{PREFIX}big.bin"
    upload = world.s3.create_multipart_upload(Bucket=world.bucket, Key=key)["UploadId"]
    try:
        # Started, and first seen, before the cut-off an hour from now: stale.
        seen = Sightings(None, time.time())
        cut = time.time() + 3600
        assert stale_multipart_uploads(client, world.bucket, PREFIX, [], cut, seen) == [
            (key, upload)
        ]
        # Started after a cut-off in the past and not in the journal: left alone.
        assert stale_multipart_uploads(client, world.bucket, PREFIX, [], 0.0, seen) == []
    finally:
        world.s3.abort_multipart_upload(Bucket=world.bucket, Key=key, UploadId=upload)


def test_pages_converted_on_arrival_keep_clashes_markers_and_refusals(world: World) -> None:
    composed = unicodedata.normalize("NFC", "café.txt")
    decomposed = unicodedata.normalize("NFD", "café.txt")
    world.put_s3(ACTOR, composed, b"c1")
    world.put_s3(ACTOR, decomposed, b"c2")
    world.put_s3(ACTOR, "", b"", key=f"{PREFIX}folder/")
    world.put_s3(ACTOR, "", b"bad", key=f"{PREFIX}up/../escape.txt")
    for n in range(3):
        world.put_s3(ACTOR, f"flat/{n}.txt", b"")
    scan = scan_remote(make_client(world.settings), world.bucket, PREFIX, workers=4)
    assert composed not in scan.objects
    assert sorted(o for o in scan.objects if o.startswith("flat/")) == [
        "flat/0.txt",
        "flat/1.txt",
        "flat/2.txt",
    ]
    assert "folder/" not in scan.objects
    messages = {i.path: i.message for i in scan.blocked}
    assert "clash after Unicode normalisation" in messages[composed]
    assert "S3 key refused" in messages["up/../escape.txt"]
