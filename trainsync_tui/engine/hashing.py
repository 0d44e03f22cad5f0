"""MD5 of files near disk speed, multipart ETags, and the per-machine hash cache."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainsync_tui.engine.cancel import CancelToken

# Large reads keep hashlib in C with the GIL released, so threads hash on every core.
_READ_SIZE = 1024 * 1024
_BATCH = 500
_spare = threading.local()


def _read_chunks(path: str | os.PathLike[str], cancel: CancelToken | None) -> Iterator[memoryview]:
    """The file in 1 MiB chunks, read into one reused buffer: each is valid until the next."""
    # The thread's spare buffer, taken while in use: a fresh 1 MiB per file (zeroed, page
    # faulted in) cost more than hashing a small file.
    buffer = getattr(_spare, "buffer", None) or bytearray(_READ_SIZE)
    _spare.buffer = None
    view = memoryview(buffer)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            while True:
                n = os.readv(fd, (buffer,))
                if not n:
                    return
                yield view[:n]
                if cancel is not None and cancel.cancelled:
                    cancel.raise_if_cancelled()
        finally:
            os.close(fd)
    finally:
        _spare.buffer = buffer


def md5_file(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> str:
    return str(md5_state(path, cancel).hexdigest())


def md5_state(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> Any:
    """The MD5 object after the file's bytes: hashing goes on with what is appended."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in _read_chunks(path, cancel):
        digest.update(chunk)
    return digest


def etags_by_part_size(
    path: str | os.PathLike[str], part_sizes: Iterable[int], cancel: CancelToken | None = None
) -> tuple[str, dict[int, str]]:
    """The file's MD5 and, per part size, the ETag S3 gives it uploaded in such parts: one read
    for every candidate (a server that hides the part size leaves several to try)."""
    whole = hashlib.md5(usedforsecurity=False)
    hashers = [PartHasher(size, whole=False) for size in dict.fromkeys(part_sizes)]
    for chunk in _read_chunks(path, cancel):
        whole.update(chunk)
        for hasher in hashers:
            hasher.update(chunk)
    return whole.hexdigest(), {h.part_size: _combine(h.part_digests()) for h in hashers}


def _combine(parts: list[bytes]) -> str:
    """S3's multipart ETag: MD5 of the part MD5s and the part count, "-1" for one part too."""
    parts = parts or [hashlib.md5(b"", usedforsecurity=False).digest()]
    combined = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(parts)}"


class PartHasher:
    """Whole-object MD5 and per-part MD5s of bytes as they stream past, in part order."""

    def __init__(self, part_size: int, *, whole: bool = True) -> None:
        self.part_size = part_size
        self.whole = hashlib.md5(usedforsecurity=False)
        self._hash_whole = whole
        self._part = hashlib.md5(usedforsecurity=False)
        self._in_part = 0
        self._parts: list[bytes] = []

    def update(self, data: bytes | memoryview) -> None:
        if self._hash_whole:
            self.whole.update(data)
        view = memoryview(data)
        while len(view):
            take = min(len(view), self.part_size - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self.part_size:
                self._parts.append(self._part.digest())
                self._part = hashlib.md5(usedforsecurity=False)
                self._in_part = 0

    def part_digests(self) -> list[bytes]:
        parts = list(self._parts)
        if self._in_part or not parts:
            parts.append(self._part.digest())
        return parts


@dataclass(frozen=True, slots=True)
class PartHashes:
    """A file's MD5 and the MD5 of each part it is uploaded in, from one read."""

    md5: str
    part_size: int
    parts: tuple[bytes, ...]

    def etag(self) -> str:
        """The ETag S3 must give the object once every part has arrived intact."""
        return _combine(list(self.parts))

    def content_md5(self, part_number: int) -> str | None:
        """The Content-MD5 header for part `part_number` (1-based), if there is such a part."""
        if not 1 <= part_number <= len(self.parts):
            return None
        return base64.b64encode(self.parts[part_number - 1]).decode()


def hash_parts(
    path: str | os.PathLike[str], part_size: int, cancel: CancelToken | None = None
) -> PartHashes:
    """Whole-file and per-part MD5s in one read, before a multipart upload.

    The whole MD5 goes out as metadata when the upload starts; each part MD5 goes out as
    that part's Content-MD5, so S3 refuses a part whose bytes changed after this read.
    """
    hasher = PartHasher(part_size)
    for chunk in _read_chunks(path, cancel):
        hasher.update(chunk)
    return PartHashes(hasher.whole.hexdigest(), part_size, tuple(hasher.part_digests()))


class HashingWriter:
    """A download target that hashes the file in order while s3transfer writes it.

    s3transfer writes parts at their offsets in whatever order they land (one IO thread).
    Bytes that extend the hashed prefix are hashed from memory as they are written; a part
    that lands early is only remembered as a range, and is read back (from the page cache)
    once the gap before it fills. No data is held, nothing waits on the hash, and the MD5 is
    ready when the last part lands, without a second pass over the whole file.
    """

    def __init__(self, handle: Any, on_write: Callable[[int, int], None] | None = None) -> None:
        self._handle = handle
        # Told (offset, length) of every write: a resumable download records what it holds.
        self._on_write = on_write
        self.digest = hashlib.md5(usedforsecurity=False)
        self._hashed = 0  # bytes [0, _hashed) are in the digest
        self._ahead: dict[int, int] = {}  # start -> end of written ranges past _hashed
        self._position = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._handle.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        start = self._position
        written = int(self._handle.write(data))
        self._position = start + written
        if start == self._hashed:
            self.digest.update(data)
            self._hashed += written
            self._catch_up()
        elif start > self._hashed:
            self._ahead[start] = max(self._ahead.get(start, 0), start + written)
        elif start + written > self._hashed:  # a retry rewrote bytes we hashed already
            self.digest.update(memoryview(data)[self._hashed - start :])
            self._hashed = start + written
            self._catch_up()
        if self._on_write is not None:
            self._on_write(start, written)
        return written

    def _catch_up(self) -> None:
        while self._hashed in self._ahead:
            end = self._ahead.pop(self._hashed)
            if end <= self._hashed:
                continue
            self._handle.flush()
            with open(self._handle.name, "rb", buffering=0) as reader:
                reader.seek(self._hashed)
                while self._hashed < end:
                    chunk = reader.read(min(_READ_SIZE, end - self._hashed))
                    if not chunk:
                        raise OSError(f"{self._handle.name}: shorter than written")
                    self.digest.update(chunk)
                    self._hashed += len(chunk)
        # Ranges now wholly inside the hashed prefix are done.
        for start in [s for s, e in self._ahead.items() if e <= self._hashed]:
            del self._ahead[start]

    def hexdigest(self, size: int) -> str:
        """The MD5 of the file, once all `size` bytes are written."""
        self._catch_up()
        if self._hashed != size:
            raise OSError(f"{self._handle.name}: {self._hashed} of {size} bytes hashed in order")
        return self.digest.hexdigest()


# How close to the moment a file was looked at its mtime may be before a stamp proves
# nothing (git's "racily clean"): a write in the same timestamp tick leaves size, mtime and
# ctime as they were. Linux stamps files from a clock that ticks every 1-10 ms; filesystems
# that keep whole seconds (ext3, some NFS and FUSE mounts) or two (FAT) need the wider one.
_FINE_TICK_NS = 20_000_000
_COARSE_TICK_NS = 2_000_000_000
CacheRow = tuple[str, int, int, int, int, int, str]


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What says a file is unchanged (git's index keeps the same): if all five match, its
    cached MD5 still holds. ctime catches a rewrite whose mtime was put back (`touch -d`,
    `os.utime`, `cp -p`, `rsync -t`), since nothing but the kernel can set it.

    `taken_ns` is when the stat was taken (the wall clock the filesystem stamps with), not
    part of the comparison: see `racy`.
    """

    size: int
    mtime_ns: int
    inode: int
    device: int
    ctime_ns: int = 0
    taken_ns: int = field(default=0, compare=False)

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, st.st_ctime_ns, time.time_ns())

    @property
    def racy(self) -> bool:
        """Whether the file was written so shortly before this stamp was taken that a
        second write in the same tick would leave the stamp as it is: such a file's MD5 is
        not cached, and it is hashed again next time (git's "racily clean" entries)."""
        coarse = self.ctime_ns % 1_000_000_000 == 0  # the kernel's own stamp: no fractions
        tick = _COARSE_TICK_NS if coarse else _FINE_TICK_NS
        return self.mtime_ns >= self.taken_ns - tick

    def matches(self, row: CacheRow) -> bool:
        """Whether a hash-cache row (see HashCache.lookup_tree) was taken of this file."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode, self.device) == row[1:6]


class HashCache:
    """(absolute path, size, mtime, inode) → MD5 in SQLite, shared by every run on the machine.

    Lookups for a tree are read in one query; new hashes are written in one transaction.
    Multipart ETags of S3 objects whose MD5 we learned are kept too: (etag, size) → MD5.
    """

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, FileStamp, str]] = []
        self._db: sqlite3.Connection | None = None
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
            except (OSError, sqlite3.Error):
                # A read-only home still syncs; it just re-hashes every run.
                self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("PRAGMA synchronous=NORMAL")
        # "files" (before ctime was part of a stamp) proves nothing a stamp needs now.
        self._db.execute("DROP TABLE IF EXISTS files")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stamps (path TEXT PRIMARY KEY, size INTEGER,"
            " mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, device INTEGER, md5 TEXT)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS etags (etag TEXT, size INTEGER, md5 TEXT,"
            " PRIMARY KEY (etag, size))"
        )
        # Objects downloaded whose multipart ETag no part size could check (a server that
        # hides the part size, an odd one): kept, not fetched again every run.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS unverified_etags (etag TEXT, size INTEGER, md5 TEXT,"
            " PRIMARY KEY (etag, size))"
        )
        self._db.commit()

    def lookup_tree(self, folder: Path) -> dict[str, CacheRow]:
        """Every cached row under `folder`, keyed by absolute path:
        (path, size, mtime_ns, ctime_ns, inode, device, md5); `matches` compares one with a
        stamp.

        Rows are kept as SQLite returns them, read off the cursor: no second copy as
        FileStamp objects (100,000 files cost ~20 MB less at the audit's peak).
        """
        start = str(folder).rstrip("/") + "/"
        end = start[:-1] + chr(ord("/") + 1)
        with self._lock:
            assert self._db is not None
            cursor = self._db.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, device, md5 FROM stamps"
                " WHERE path >= ? AND path < ?",
                (start, end),
            )
            return {row[0]: row for row in cursor}

    def store(self, entries: Iterable[tuple[str, FileStamp, str]]) -> None:
        """Cache each (path, stamp, MD5), except a racily clean one (see FileStamp.racy)."""
        rows = [
            (p, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device, md5)
            for p, s, md5 in entries
            if not s.racy
        ]
        if not rows:
            return
        with self._lock:
            assert self._db is not None
            try:
                self._db.executemany("INSERT OR REPLACE INTO stamps VALUES (?,?,?,?,?,?,?)", rows)
                self._db.commit()
            except sqlite3.Error:
                self._db.rollback()

    def store_later(self, path: str, stamp: FileStamp, md5: str) -> None:
        """Queue a row; rows are stored every _BATCH and by flush() (the executor's checkpoint).

        One SQLite commit per downloaded file was a sixth of a many-small-files download.
        """
        with self._lock:
            self._pending.append((path, stamp, md5))
            full = len(self._pending) >= _BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        self.store(rows)

    def md5_for_etag(self, etag: str, size: int, *, unverified: bool = False) -> str | None:
        """The MD5 learned for an object; with `unverified`, one kept without a check."""
        table = "unverified_etags" if unverified else "etags"
        with self._lock:
            assert self._db is not None
            row = self._db.execute(
                f"SELECT md5 FROM {table} WHERE etag = ? AND size = ?", (etag, size)
            ).fetchone()
        return row[0] if row else None

    def remember_etag(self, etag: str, size: int, md5: str, *, unverified: bool = False) -> None:
        if "-" not in etag and not unverified:
            return
        table = "unverified_etags" if unverified else "etags"
        with self._lock:
            assert self._db is not None
            try:
                self._db.execute(
                    f"INSERT OR REPLACE INTO {table} VALUES (?,?,?)", (etag, size, md5)
                )
                self._db.commit()
            except sqlite3.Error:
                self._db.rollback()

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


ProgressFn = Callable[[int], None]
