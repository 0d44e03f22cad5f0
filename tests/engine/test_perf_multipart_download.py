"""Multipart downloads are hashed in order as their parts land: wrong bytes are still caught."""

from __future__ import annotations

from tests.conftest import World, md5
from tests.engine.test_multipart import ACTOR, BIG, engine, sync


def test_multipart_download_whose_md5_metadata_lies_is_not_kept(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True, metadata={"md5": md5(b"other bytes")})
    report = sync(world)
    assert report.counts["downloaded"] == 0
    assert any(e.startswith("big.bin:") and "does not match" in e for e in report.errors)
    assert world.local_paths(ACTOR) == []  # no temp file, no half file


def test_multipart_download_records_the_md5_of_the_bytes_in_order(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True, metadata={"md5": md5(BIG)})
    eng = engine(world)  # 5 MiB parts; the object has 3 of them
    report = sync(world, eng)
    assert report.errors == [] and report.counts["downloaded"] == 1
    assert world.read_local(ACTOR, "big.bin") == BIG
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(BIG)}
