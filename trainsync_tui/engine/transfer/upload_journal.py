"""This root's multipart uploads under way, by upload ID: what a later run may resume or abort.

One JSON object per line in the actor's work folder. Only uploads listed here are ours:
another server sharing the bucket has its own journal, and its uploads are never aborted
by ID from ours (only by the much longer stale age, see stale_uploads.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from trainsync_tui.engine.hashing import FileStamp


@dataclass(frozen=True)
class JournalEntry:
    key: str
    upload_id: str
    path: str  # the file's disk path below training_data/
    md5: str
    size: int
    mtime_ns: int
    inode: int
    part_size: int
    started: float  # epoch seconds, by this machine's clock

    def fits(self, stamp: FileStamp | None, part_size: int, md5: str | None = None) -> bool:
        """Whether the file is still the one this upload's parts were cut from."""
        return (
            stamp is not None
            and (stamp.size, stamp.mtime_ns, stamp.inode) == (self.size, self.mtime_ns, self.inode)
            and part_size == self.part_size
            and (md5 is None or md5 == self.md5)
        )


def _parse(line: str) -> JournalEntry | None:
    try:
        data = json.loads(line)
        return JournalEntry(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        # A key alone (the journal of older versions) names no upload ID: not ours to abort
        # by ID; the stale clean-up deals with it by age.
        return None


class UploadJournal:
    """Thread-safe; every change rewrites the (small) file whole, atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Keys whose CreateMultipartUpload is under way: a kill -9 between S3's answer and
        # the journal line leaves an upload no journal names. Written (and fsynced) before
        # the create is sent, so the next run of this root knows those keys (see
        # stale_uploads.abort_unresumable).
        self._creating_path = path.with_name(path.name + "-creating")
        self._creating: list[str] = []

    def creating(self, key: str) -> None:
        """Before sending the CreateMultipartUpload of `key`."""
        with self._lock:
            self._creating.append(key)
            self._write_creating()

    def created(self, key: str) -> None:
        """The create of `key` is journalled by ID, or failed."""
        with self._lock:
            with contextlib.suppress(ValueError):
                self._creating.remove(key)
            self._write_creating()

    def left_creating(self) -> list[str]:
        """Keys a run of this root that died was creating an upload of."""
        try:
            text = self._creating_path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return []
        keys = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                key = json.loads(line)
                if isinstance(key, str):
                    keys.append(key)
        return keys

    def forget_creating(self) -> None:
        with self._lock:
            self._creating = []
            self._write_creating()

    def _write_creating(self) -> None:
        _replace_lines(self._creating_path, [json.dumps(k) for k in self._creating])

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return self._read()

    def _read(self) -> list[JournalEntry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [e for e in map(_parse, text.splitlines()) if e is not None]

    def find(self, key: str) -> JournalEntry | None:
        with self._lock:
            return next((e for e in self._read() if e.key == key), None)

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            self._write([*self._read(), entry])

    def remove(self, upload_id: str) -> None:
        with self._lock:
            entries = self._read()
            kept = [e for e in entries if e.upload_id != upload_id]
            if len(kept) != len(entries):
                self._write(kept)

    def keep_only(self, upload_ids: set[str]) -> None:
        with self._lock:
            self._write([e for e in self._read() if e.upload_id in upload_ids])

    def _write(self, entries: list[JournalEntry]) -> None:
        _replace_lines(self.path, [json.dumps(asdict(e), sort_keys=True) for e in entries])


def _replace_lines(path: Path, lines: list[str]) -> None:
    """Make `path` hold exactly `lines` (on disk before it is renamed in), or not exist."""
    if not lines:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".new")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
