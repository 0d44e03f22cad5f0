"""Multipart downloads are hashed in order as their parts land: wrong bytes are still caught."""

from __future__ import annotations

from tests.conftest import World, md5
from tests.engine.test_multipart import ACTOR, BIG, engine, sync


def test_multipart_download_whose_md5_metadata_lies_is_not_kept(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True, metadata={"md5": md5(b"other bytes")})
    report = sync(world)
    assert report.counts.downloaded == 0
    assert any(e.startswith("big.bin:") and "does not match" in e for e in report.errors)
    assert world.local_paths(ACTOR) == []  # no temp file, no half file


def test_multipart_download_records_the_md5_of_the_bytes_in_order(world: World) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True, metadata={"md5": md5(BIG)})
    eng = engine(world)  # 5 MiB parts; the object has 3 of them
    report = sync(world, eng)
    assert report.errors == [] and report.counts.downloaded == 1
    assert world.read_local(ACTOR, "big.bin") == BIG
    assert world.manifest_md5s(ACTOR) == {"big.bin": md5(BIG)}


def test_parts_written_in_any_order_hash_to_the_whole_files_md5(tmp_path) -> None:
    import hashlib
    import random

    from trainsync_tui.engine.hashing import HashingWriter

    data = random.Random(3).randbytes(1_000_003)
    pieces = [(o, data[o : o + 65_536]) for o in range(0, len(data), 65_536)]
    random.Random(4).shuffle(pieces)
    pieces.append(pieces[0])  # a retry writes a piece again
    with open(tmp_path / "f", "wb") as handle:
        writer = HashingWriter(handle)
        for offset, piece in pieces:
            writer.seek(offset)
            writer.write(piece)
        assert writer.hexdigest(len(data)) == hashlib.md5(data).hexdigest()
    assert (tmp_path / "f").read_bytes() == data


def test_a_file_with_a_hole_is_not_given_an_md5(tmp_path) -> None:
    import pytest

    from trainsync_tui.engine.hashing import HashingWriter

    with open(tmp_path / "f", "wb") as handle:
        writer = HashingWriter(handle)
        writer.seek(10)
        writer.write(b"x" * 10)
        with pytest.raises(OSError):
            writer.hexdigest(20)


def test_several_multipart_downloads_at_once_all_land_verified(world: World) -> None:
    objects = {f"big{n}.bin": bytes([n]) * 7 + BIG for n in range(3)}
    for path, data in objects.items():
        world.put_s3(ACTOR, path, data, multipart=True, metadata={"md5": md5(data)})
    report = sync(world)
    assert report.errors == [] and report.counts.downloaded == 3
    assert world.manifest_md5s(ACTOR) == {p: md5(d) for p, d in objects.items()}
    for path, data in objects.items():
        assert world.read_local(ACTOR, path) == data
