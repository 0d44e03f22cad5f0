"""The per-machine hash cache: an unchanged tree is not re-read; --verify re-reads it."""

from __future__ import annotations

import os

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, one_object
from trainsync_tui.cli import main


def rewrite_in_place_keeping_stamp(path: os.PathLike[str], data: bytes) -> None:
    """Same inode, size and mtime: only a real read can see the new bytes."""
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


def audit(world: World, capsys, *extra: str) -> dict:
    code = main(["audit", ACTOR, "--json", *extra, *world.cli_flags()])
    summary = one_object(capsys.readouterr().out)
    assert code in (0, 1)
    return summary


def test_second_audit_reads_no_file_and_verify_rereads(world: World, capsys) -> None:
    path = world.put_local(ACTOR, "a.bin", b"AAAA")
    first = audit(world, capsys)
    assert first["actions"]["upload"][0]["local_md5"] == md5(b"AAAA")

    rewrite_in_place_keeping_stamp(path, b"BBBB")
    cached = audit(world, capsys)
    assert cached["actions"]["upload"][0]["local_md5"] == md5(b"AAAA")  # not re-read

    verified = audit(world, capsys, "--verify")
    assert verified["actions"]["upload"][0]["local_md5"] == md5(b"BBBB")


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
    rewrite_in_place_keeping_stamp(world.local_path(ACTOR, "d.bin"), b"EEEE")
    summary = audit(world, capsys)
    assert summary["actions"] == {}  # the download's MD5 came from the cache, no read
    verified = audit(world, capsys, "--verify")
    assert verified["actions"]["upload"][0]["local_md5"] == md5(b"EEEE")
