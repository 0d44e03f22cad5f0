"""Big downloads in parallel ranges (engine/transfer/parallel_get.py): pieces never span two
parts, the MD5 comes out right whatever order the ranges land in, every range's thread may
record the sidecar at once, and the first failure stops the pieces not yet started."""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, TransferError
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.parallel_get import (
    InOrderHasher,
    OffsetWriter,
    fetch_ranges,
    pieces,
)
from trainsync_tui.engine.transfer.resumable_get import Partial, download_resumable

MiB = 1 << 20
DATA = random.Random(23).randbytes(32 * MiB + 12345)
CHUNK = 64 * 1024


def test_pieces_are_cut_at_part_boundaries() -> None:
    assert pieces([(0, 20)], 8) == [(0, 8), (8, 16), (16, 20)]
    assert pieces([(3, 9), (12, 30)], 8) == [(3, 8), (8, 9), (12, 16), (16, 24), (24, 30)]
    assert pieces([], 8) == []


def _write_out_of_order(fd: int, hasher: InOrderHasher, ranges: list[tuple[int, int]]) -> None:
    """Write `ranges` of DATA from 6 threads, chunk by chunk, shuffled: as parts land."""

    def one(start: int, end: int) -> None:
        writer = OffsetWriter(fd)
        writer.seek(start)
        for at in range(start, end, CHUNK):
            chunk = DATA[at : min(at + CHUNK, end)]
            writer.write(chunk)
            hasher.wrote(at, len(chunk))

    shuffled = pieces(ranges, MiB)
    random.Random(5).shuffle(shuffled)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda r: one(*r), shuffled))


@pytest.mark.parametrize("kept", [[], [(0, 3 * MiB)], [(MiB, 2 * MiB), (5 * MiB, 9 * MiB)]])
def test_the_md5_is_the_files_whatever_order_the_ranges_land_in(
    tmp_path: Path, kept: list[tuple[int, int]]
) -> None:
    path = tmp_path / "part"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDWR)
    try:
        os.ftruncate(fd, len(DATA))
        for start, end in kept:
            os.pwrite(fd, DATA[start:end], start)
        hasher = InOrderHasher(fd, kept)
        gaps, at = [], 0
        for start, end in [*kept, (len(DATA), len(DATA))]:
            if start > at:
                gaps.append((at, start))
            at = max(at, end)
        _write_out_of_order(fd, hasher, gaps)
        assert hasher.hexdigest(len(DATA)) == hashlib.md5(DATA).hexdigest()
    finally:
        os.close(fd)


def test_a_hasher_short_of_bytes_says_so(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "part", os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, 4 * MiB)
        hasher = InOrderHasher(fd, [])
        _write_out_of_order(fd, hasher, [(0, MiB), (2 * MiB, 4 * MiB)])  # a gap at 1-2 MiB
        with pytest.raises(OSError, match=f"{MiB} of {4 * MiB} bytes"):
            hasher.hexdigest(4 * MiB)
    finally:
        os.close(fd)


def test_ranges_recorded_from_many_threads_resume_exactly(tmp_path: Path) -> None:
    """Every range's thread records the sidecar (every 2 MiB); a cut after half the pieces
    keeps exactly what was written, and the next call fetches only the rest."""
    remote = RemoteObject("big.bin", "a/big.bin", len(DATA), "etag-1", 0, None)
    folder = tmp_path / "partial"
    asked: list[tuple[int, int]] = []
    lock = threading.Lock()
    stop_after = [len(pieces([(0, len(DATA))], MiB)) // 2]

    def fetch(fd: int, ranges: list[tuple[int, int]], wrote) -> None:  # type: ignore[no-untyped-def]
        def one(writer: OffsetWriter, start: int, end: int, on_chunk) -> None:  # type: ignore[no-untyped-def]
            with lock:
                if stop_after[0] == 0:
                    raise TransferError("connection reset")
                stop_after[0] -= 1
                asked.append((start, end))
            writer.seek(start)
            for at in range(start, end, CHUNK):
                chunk = DATA[at : min(at + CHUNK, end)]
                writer.write(chunk)
                on_chunk(len(chunk))

        with ThreadPoolExecutor(8) as pool:
            fetch_ranges(pool, fd, ranges, MiB, one, wrote)

    def verify(path: Path, md5: str) -> None:
        assert md5 == hashlib.md5(DATA).hexdigest() == hashlib.md5(path.read_bytes()).hexdigest()

    with pytest.raises(TransferError, match="connection reset"):
        download_resumable(
            remote,
            tmp_path / "t",
            folder,
            fetch_ranges=fetch,
            verify=verify,
            on_bytes=lambda n: None,
        )
    held = json.loads(Partial.of(folder, remote.key).sidecar.read_text())["ranges"]
    kept = sum(b - a for a, b in held)
    assert kept == sum(b - a for a, b in asked) > 0  # every piece that ran, no more
    data = Partial.of(folder, remote.key).data.read_bytes()
    assert all(data[a:b] == DATA[a:b] for a, b in held)
    asked.clear()
    stop_after[0] = 1000
    md5, resumed = download_resumable(
        remote, tmp_path / "t", folder, fetch_ranges=fetch, verify=verify, on_bytes=lambda n: None
    )
    assert md5 == hashlib.md5(DATA).hexdigest() and resumed == kept
    assert sum(b - a for a, b in asked) == len(DATA) - kept
    assert (tmp_path / "t").read_bytes() == DATA and not folder.exists()


def test_the_first_failure_stops_the_pieces_not_yet_started() -> None:
    started: list[int] = []

    def one(writer: OffsetWriter, start: int, end: int, on_chunk) -> None:  # type: ignore[no-untyped-def]
        started.append(start)
        raise TransferError("refused")

    with ThreadPoolExecutor(1) as pool, pytest.raises(TransferError, match="refused"):
        fetch_ranges(pool, -1, [(0, 10 * MiB)], MiB, one, lambda a, n: None)
    assert started == [0]


def test_a_cancel_is_raised_before_another_pieces_error() -> None:
    cancel = CancelToken()
    gate = threading.Barrier(2)

    def one(writer: OffsetWriter, start: int, end: int, on_chunk) -> None:  # type: ignore[no-untyped-def]
        gate.wait()
        if start == 0:
            raise TransferError("refused")
        cancel.cancel()
        cancel.raise_if_cancelled()

    with ThreadPoolExecutor(2) as pool, pytest.raises(CancelledSync):
        fetch_ranges(pool, -1, [(0, 2 * MiB)], MiB, one, lambda a, n: None)
