"""A big object's ranges fetched side by side, each written at its offset the moment it
arrives, and the file's MD5 folded in order by one hasher thread while they land.

s3transfer (what big downloads used before) hands every 256 KiB read from its part threads
to a single IO thread through a queue of up to 1,000 chunks: at full speed that thread
(write, MD5, bookkeeping) fell behind, up to 250 MiB waited in memory, and a kill -9 lost
them with the MD5 not yet done (issue 23: 24 MiB kept when 192 MiB had crossed the wire).
Here the thread that reads a range writes it (`os.pwrite`, no shared file position) and
says so at once, so what is recorded lags what was read by at most one chunk per range.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, wait
from typing import Any

from trainsync_tui.engine.errors import CancelledSync

Ranges = list[tuple[int, int]]  # [start, end) pairs
_HASH_READ = 1024 * 1024


class OffsetWriter:
    """The file-like `get_range` writes through: `seek` then `write`, as `os.pwrite` at the
    offset, so ranges of one file can be written from many threads at once."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._at = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset
        return offset

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, self._at)
            self._at += written
            view = view[written:]
        return len(data)


class InOrderHasher:
    """The MD5 of a file whose ranges are written in any order by many threads.

    A thread of its own hashes the written prefix as it grows, reading it back with `preadv`
    (from the page cache: the bytes were just written) into one reused buffer, so the MD5 is
    done moments after the last range lands and no writer ever waits for it.
    """

    def __init__(self, fd: int, held: Ranges) -> None:
        self._fd = fd
        self._digest = hashlib.md5(usedforsecurity=False)
        self._hashed = 0
        # Written ranges not yet hashed, start -> end; a range's chunks arrive in order and
        # ranges never overlap (pieces are the gaps between kept ranges), so one entry each.
        self._written: dict[int, int] = {}
        self._ends: dict[int, int] = {}  # end -> start of the same entries
        self._changed = threading.Condition()
        self._stopped = False  # no more writes: hash what is written, then end
        self._aborted = False  # the download failed: end now
        self._error: BaseException | None = None
        for start, end in held:
            self._add(start, end)
        self._thread = threading.Thread(target=self._run, name="md5", daemon=True)
        self._thread.start()

    def _add(self, start: int, end: int) -> None:
        """Note [start, end) written (caller holds the lock, or no thread runs yet)."""
        if start in self._ends:  # the next chunk of a range: extend it
            start = self._ends.pop(start)
        self._written[start] = end
        self._ends[end] = start

    def wrote(self, start: int, n: int) -> None:
        with self._changed:
            self._add(start, start + n)
            if start <= self._hashed or self._hashed in self._written:
                self._changed.notify()

    def _next_end(self) -> int:
        """How far the written prefix reaches now (caller holds the lock)."""
        end = self._hashed
        while end in self._written:
            reach = self._written.pop(end)
            self._ends.pop(reach, None)
            end = reach
        return end

    def _run(self) -> None:
        buffer = bytearray(_HASH_READ)
        try:
            while True:
                with self._changed:
                    end = self._next_end()
                    while end <= self._hashed and not self._stopped:
                        self._changed.wait()
                        end = self._next_end()
                    if end <= self._hashed or self._aborted:
                        return
                while self._hashed < end and not self._aborted:
                    want = min(_HASH_READ, end - self._hashed)
                    got = os.preadv(self._fd, [memoryview(buffer)[:want]], self._hashed)
                    if got <= 0:
                        raise OSError("the partial file is shorter than written")
                    self._digest.update(memoryview(buffer)[:got])
                    self._hashed += got
        except BaseException as exc:
            self._error = exc

    def stop(self, *, abort: bool = True) -> None:
        """End the hasher thread: at once, or (`abort=False`) once the prefix is hashed."""
        with self._changed:
            self._stopped = True
            self._aborted = abort
            self._changed.notify()
        self._thread.join()

    def hexdigest(self, size: int) -> str:
        """The file's MD5 once all `size` bytes are written (waits for the hasher)."""
        self.stop(abort=False)
        if self._error is not None:
            raise self._error
        if self._hashed != size:
            raise OSError(f"{self._hashed} of {size} bytes hashed in order")
        return self._digest.hexdigest()


FetchOne = Callable[[OffsetWriter, int, int, Callable[[int], None]], None]


def pieces(ranges: Ranges, piece: int) -> Ranges:
    """`ranges` cut at multiples of `piece` (the part size: a piece is never two parts)."""
    out: Ranges = []
    for start, end in ranges:
        at = start
        while at < end:
            stop = min(end, (at // piece + 1) * piece)
            out.append((at, stop))
            at = stop
    return out


def fetch_ranges(
    pool: Executor,
    fd: int,
    ranges: Ranges,
    piece: int,
    fetch_one: FetchOne,
    wrote: Callable[[int, int], None],
) -> None:
    """Fetch every range into `fd` on `pool`, `piece` bytes per request; `wrote(start, n)`
    hears each chunk as it is written. The first failure stops the pieces not yet started
    and is raised once the ones under way have ended (none is left writing to `fd`)."""
    failed = threading.Event()

    def one(start: int, end: int) -> None:
        if failed.is_set():
            return
        at = [start]

        def on_chunk(n: int) -> None:
            wrote(at[0], n)
            at[0] += n

        try:
            fetch_one(OffsetWriter(fd), start, end, on_chunk)
        except BaseException:
            failed.set()
            raise

    futures: list[Future[Any]] = [pool.submit(one, a, b) for a, b in pieces(ranges, piece)]
    wait(futures, return_when=FIRST_EXCEPTION)
    if failed.is_set():
        wait(futures)  # the pieces under way end at their next chunk or their end
    errors = [f.exception() for f in futures if f.done() and f.exception() is not None]
    # A cancel is what the caller asked for; otherwise the first error is the cause.
    for error in errors:
        if isinstance(error, CancelledSync):
            raise error
    if errors:
        raise errors[0]  # type: ignore[misc]
