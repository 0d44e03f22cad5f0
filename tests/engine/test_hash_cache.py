"""The per-machine hash cache: an unchanged tree is not re-read; --verify re-reads it; a
file changed in any way a stamp can show (ctime included), or written in the tick its stamp
was taken in, is read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, one_object
from trainsync_tui.cli import main
from trainsync_tui.engine.events import Event, ScanProgress
from trainsync_tui.engine.facade import Engine
from trainsync_tui.engine.hashing import FileStamp, HashCache


def rewrite_in_place_keeping_stamp(path: os.PathLike[str], data: bytes) -> None:
    """Same inode, size and mtime (only ctime says it changed): what `touch -d`, `cp -p`
    or `rsync -t` leave behind."""
    st = os.stat(path)
    with open(path, "r+b") as handle:
        handle.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
    )


def settled(*paths: os.PathLike[str]) -> None:
    """Written ten seconds ago: older than the tick in which an audit right after the write
    would take its stamp, so the MD5 is cached (a file written within the tick is hashed again
    next time on purpose: see test_a_file_written_in_the_tick_of_its_stamp_is_hashed_again)."""
    then = time.time() - 10
    for path in paths:
        os.utime(path, (then, then))


def files_hashed(world: World, *, rehash: bool = False) -> int:
    """How many files an audit of the actor read to hash them (its hash progress)."""
    hashed = [0]

    def sink(event: Event) -> None:
        if isinstance(event, ScanProgress) and event.source == "hash":
            hashed[0] = max(hashed[0], event.done)

    engine = Engine(world.settings)
    try:
        engine.audit(engine.actor(ACTOR), rehash=rehash, sink=sink)
    finally:
        engine.close()
    return hashed[0]


def audit(world: World, capsys, *extra: str) -> dict:
    code = main(["audit", ACTOR, "--json", *extra, *world.cli_flags()])
    summary = one_object(capsys.readouterr().out)
    assert code in (0, 1)
    return summary


def test_second_audit_reads_no_file_and_verify_rereads(world: World, capsys) -> None:
    settled(world.put_local(ACTOR, "a.bin", b"AAAA"), world.put_local(ACTOR, "b.bin", b"BBBB"))
    first = audit(world, capsys)
    assert {a["local_md5"] for a in first["actions"]["upload"]} == {md5(b"AAAA"), md5(b"BBBB")}

    assert files_hashed(world) == 0
    assert files_hashed(world, rehash=True) == 2  # --verify
    verified = audit(world, capsys, "--verify")
    assert {a["local_md5"] for a in verified["actions"]["upload"]} == {
        md5(b"AAAA"),
        md5(b"BBBB"),
    }


def test_a_rewrite_that_puts_its_mtime_back_is_seen(world: World, capsys) -> None:
    # Size, mtime, inode and device as before: only ctime, which nothing but the kernel
    # sets, tells (issue 22 item 3: audit said "in sync", and a download replaced it).
    path = world.put_local(ACTOR, "a.bin", b"AAAA")
    audit(world, capsys)
    rewrite_in_place_keeping_stamp(path, b"BBBB")
    again = audit(world, capsys)
    assert again["actions"]["upload"][0]["local_md5"] == md5(b"BBBB")


def test_a_file_written_in_the_tick_of_its_stamp_is_hashed_again(world: World) -> None:
    # Its mtime is not older than the moment it was looked at: a second write in the same
    # timestamp tick (whole seconds on some filesystems) would leave every stamp field as
    # it is, so the MD5 read is not cached (git's "racily clean").
    path = world.put_local(ACTOR, "a.bin", b"AAAA")
    soon = time.time_ns() + 60 * 1_000_000_000
    os.utime(path, ns=(soon, soon))
    assert files_hashed(world) == 1
    assert files_hashed(world) == 1  # still racy: read again, never trusted
    os.utime(path, ns=(soon - 3600 * 10**9, soon - 3600 * 10**9))
    assert files_hashed(world) == 1  # an old mtime: cached now
    assert files_hashed(world) == 0


def test_a_stamp_is_racy_within_the_filesystems_tick(tmp_path: Path) -> None:
    taken = 1_700_000_000_123_456_789
    fine = FileStamp(4, taken - 5_000_000, 1, 1, taken - 5_000_000, taken)  # 5 ms before
    settled = FileStamp(4, taken - 500_000_000, 1, 1, taken - 500_000_000, taken)
    # ctime in whole seconds: a filesystem that keeps no fractions; its tick is a second.
    coarse = FileStamp(4, taken - 1_500_000_000, 1, 1, 1_699_999_998_000_000_000, taken)
    assert (fine.racy, settled.racy, coarse.racy) == (True, False, True)
    cache = HashCache(tmp_path / "cache.db")
    cache.store([("/x/fine", fine, "f" * 32), ("/x/settled", settled, "s" * 32)])
    assert set(cache.lookup_tree(Path("/x"))) == {"/x/settled"}
    cache.close()


def test_a_touched_file_is_hashed_again(world: World, capsys) -> None:
    path = world.put_local(ACTOR, "a.bin", b"AAAA")
    audit(world, capsys)
    path.write_bytes(b"CCCC")
    os.utime(path, (1_000_000, 1_000_000))
    again = audit(world, capsys)
    assert again["actions"]["upload"][0]["local_md5"] == md5(b"CCCC")


def test_sync_records_downloads_in_the_cache(world: World, capsys) -> None:
    world.put_s3(ACTOR, "d.bin", b"DDDD")
    assert main(["sync", ACTOR, "--json", *world.cli_flags()]) == 0
    capsys.readouterr()
    assert files_hashed(world) == 0  # the download's MD5 came from the cache, no read
    assert audit(world, capsys)["actions"] == {}
