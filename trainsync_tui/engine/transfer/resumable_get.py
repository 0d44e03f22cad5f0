"""Big downloads that survive a cut: the byte ranges already written are kept in
`<staging>/partial/` with a sidecar naming the object's ETag, and the next sync fetches only
the gaps (ranged GETs with If-Match).

s3transfer fetches parts in parallel, so a cut leaves several partly written parts, not one
prefix: the sidecar lists every range written. The kept bytes are never trusted on their
own: the whole file's MD5 (or multipart ETag) is checked before the rename, and a resumed
file that fails it is fetched again from byte 0 in the same run. An object that check
cannot catch a bad byte of (no MD5, no known part size) is never resumed: kept bytes that
were changed on disk would land as its bytes. Nothing here is ever inside training_data/.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainsync_tui.engine.errors import TransferError
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.parallel_get import InOrderHasher
from trainsync_tui.engine.transfer.single_get import ObjectChanged, RangeIgnored, writing

# The sidecar is rewritten each time this much more is written (a small JSON file and a
# rename, ~0.1 ms): a kill -9 loses at most about this much of the download, plus what the
# ranges under way had read and not yet written (single_get.py's _RANGE_READ_SIZE each).
_SIDECAR_STEP = 2 * 1024 * 1024
Ranges = list[tuple[int, int]]  # [start, end) pairs, sorted, not touching


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged


def gaps(held: Ranges, size: int) -> Ranges:
    """The ranges of [0, size) not held."""
    missing: Ranges = []
    at = 0
    for start, end in held:
        if start > at:
            missing.append((at, start))
        at = max(at, end)
    if at < size:
        missing.append((at, size))
    return missing


@dataclass(frozen=True)
class Partial:
    """One object's kept bytes (`data`) and its sidecar (key, ETag, size, ranges held)."""

    data: Path
    sidecar: Path

    @classmethod
    def of(cls, folder: Path, key: str) -> Partial:
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        return cls(folder / f"{name}.part", folder / f"{name}.json")

    def held(self, remote: RemoteObject) -> Ranges:
        """Ranges kept for this very object (same key, ETag and size); none, after
        discarding them, for anything else."""
        try:
            meta = json.loads(self.sidecar.read_text(encoding="utf-8"))
            on_disk = self.data.stat().st_size
            same = (meta["key"], meta["etag"], int(meta["size"])) == (
                remote.key,
                remote.etag,
                remote.size,
            )
            held = _merge(
                [(int(a), min(int(b), on_disk, remote.size)) for a, b in meta["ranges"] if a >= 0]
            )
        except (OSError, ValueError, KeyError, TypeError):
            same, held = False, []
        if not same or not held:
            self.discard()
            return []
        return held

    def keep(self, remote: RemoteObject, held: Ranges) -> None:
        """Record that `held` ranges of `data` are the object's bytes at those offsets."""
        meta = {"key": remote.key, "etag": remote.etag, "size": remote.size, "ranges": held}
        temp = self.sidecar.with_suffix(".json.new")
        temp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(temp, self.sidecar)

    def discard(self) -> None:
        for path in (self.data, self.sidecar):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class _Held:
    """The ranges written so far; the sidecar follows every _SIDECAR_STEP bytes.

    Told of chunks by every range's thread: the sidecar is written by one at a time, each
    time with the ranges as they are then (a later write never records fewer). The chunks
    are written with pwrite before they are told here, so they are with the OS already.
    """

    def __init__(self, partial: Partial, remote: RemoteObject, held: Ranges):
        self._partial = partial
        self._remote = remote
        self._lock = threading.Lock()
        self._recording = threading.Lock()
        self.ranges = list(held)
        self._unrecorded = 0

    def wrote(self, start: int, n: int) -> None:
        with self._lock:
            self.ranges = _merge([*self.ranges, (start, start + n)])
            self._unrecorded += n
            if self._unrecorded < _SIDECAR_STEP:
                return
            self._unrecorded = 0
        with self._recording:
            with self._lock:
                ranges = list(self.ranges)
            self._partial.keep(self._remote, ranges)

    def keep(self) -> None:
        """After a failed attempt (every range's thread has ended): keep what was written,
        or nothing."""
        with self._recording:
            ranges = list(self.ranges)
            if ranges:
                with contextlib.suppress(OSError):
                    self._partial.keep(self._remote, ranges)
                    return
            self._partial.discard()


FetchRanges = Callable[[int, Ranges, Callable[[int, int], None]], None]
Verify = Callable[[Path, str], None]


def download_resumable(
    remote: RemoteObject,
    temp: Path,
    folder: Path,
    *,
    fetch_ranges: FetchRanges,
    verify: Verify,
    on_bytes: Callable[[int], None],
    on_kept: Callable[[int], None] = lambda _: None,
    verifiable: Callable[[], bool] = lambda: True,
) -> tuple[str, int]:
    """Fetch `remote` into `temp` (verified), filling the gaps of kept ranges; returns the MD5
    and the bytes that were kept, not fetched.

    `fetch_ranges(fd, ranges, wrote)` writes each of `ranges` at its offset in `fd` (in
    parallel, in any order: parallel_get.py) and calls `wrote(start, n)` for every chunk
    written; `verifiable()` says whether `verify` can catch a bad byte (asked only when bytes
    are kept); `on_kept` hears the kept bytes just before `on_bytes` counts them done.
    Raises RangeIgnored when the server answers a ranged GET with the whole object.
    """
    folder.mkdir(parents=True, exist_ok=True)
    partial = Partial.of(folder, remote.key)
    held = partial.held(remote)
    if held and not verifiable():
        partial.discard()
        held = []
    if held:
        kept = sum(end - start for start, end in held)
        on_kept(kept)
        on_bytes(kept)  # progress counts kept bytes as done
        try:
            md5 = _fetch(remote, partial, held, fetch_ranges, on_bytes)
        except (ObjectChanged, RangeIgnored):
            partial.discard()  # a new object under the name, or no ranges: from byte 0
        else:
            _move(partial.data, temp)
            partial.discard()
            try:
                verify(temp, md5)
                _remove_if_empty(folder)
                return md5, kept
            except TransferError:
                # The whole file failed its check, so the kept bytes were not the object's.
                temp.unlink(missing_ok=True)
    try:
        md5 = _fetch(remote, partial, [], fetch_ranges, on_bytes)
    except RangeIgnored:
        partial.discard()
        _remove_if_empty(folder)
        raise
    _move(partial.data, temp)
    partial.discard()
    _remove_if_empty(folder)
    try:
        verify(temp, md5)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return md5, 0


def _remove_if_empty(folder: Path) -> None:
    """A converged actor leaves no trace in its staging folder."""
    with contextlib.suppress(OSError):
        folder.rmdir()


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:
        shutil.move(source, target)  # staging on another filesystem than the target


def _open(path: Path, fresh: bool) -> int:
    """The partial file's descriptor (read and write: the hasher reads it back); a fresh one
    is created, though another download may have just removed the empty folder."""
    flags = os.O_RDWR | (os.O_CREAT | os.O_TRUNC if fresh else 0)
    for _ in range(3):
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            return os.open(path, flags, 0o644)
    return os.open(path, flags, 0o644)


def _fetch(
    remote: RemoteObject,
    partial: Partial,
    kept: Ranges,
    fetch_ranges: FetchRanges,
    on_bytes: Callable[[int], None],
) -> str:
    """Fetch the gaps between `kept` ranges into the partial file; its MD5. Every chunk is
    recorded as it is written (the sidecar follows within _SIDECAR_STEP) and hashed in order
    by a thread of its own; a failure keeps what was written for the next run."""
    with writing():
        fd = _open(partial.data, fresh=not kept)
    try:
        if kept:
            with writing():
                os.ftruncate(fd, remote.size)  # nothing past the object's end is ever read
        held = _Held(partial, remote, kept)
        hasher = InOrderHasher(fd, kept)

        def wrote(start: int, n: int) -> None:
            hasher.wrote(start, n)
            held.wrote(start, n)
            on_bytes(n)

        try:
            fetch_ranges(fd, gaps(kept, remote.size), wrote)
            return hasher.hexdigest(remote.size)
        except BaseException:
            hasher.stop()
            held.keep()
            raise
    finally:
        os.close(fd)
