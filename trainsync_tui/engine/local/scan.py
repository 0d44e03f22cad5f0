"""Scan an actor's training_data/ folder: names, sizes, times and cached or fresh MD5s."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from trainsync_tui.engine.actors.layout import temp_journal_of, training_link_problem
from trainsync_tui.engine.actors.obstacles import FOLDER_LINK, OUTSIDE_LINK, kind_of
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.hashing import FileStamp, HashCache, md5_file
from trainsync_tui.engine.local.tempfiles import is_ours, journalled
from trainsync_tui.engine.paths import is_temp_name, normalise, relative_path_problem
from trainsync_tui.engine.scanned import LocalFile, PathIssue

HashProgress = Callable[[int, int, int], None]  # files hashed, bytes hashed, files to hash
# path -> True when the file need not be hashed now; it may wait for the S3 listing.
DeferHash = Callable[[str], bool]
# A task for a hashing thread: files up to this many bytes (opening one counts as 16 KiB).
_BATCH_BYTES = 4 * 1024 * 1024
_BATCH_FILES = 256
_PER_FILE_BYTES = 16 * 1024
TEMP_NAME_PROBLEM = (
    "named like a trainsync temp file, so it is not synced (nor ever deleted); rename it to "
    "sync it, or delete it if an older trainsync left it"
)


@dataclass
class LocalScan:
    files: dict[str, LocalFile] = field(default_factory=dict)
    blocked: list[PathIssue] = field(default_factory=list)
    notes: list[PathIssue] = field(default_factory=list)
    # Paths not synced that a download could not be written over or through: path -> kind.
    in_the_way: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Found:
    key: str
    rel: str
    absolute: str
    stamp: FileStamp
    mtime: float


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _walk(top: Path, scan: LocalScan, cancel: CancelToken | None) -> list[_Found]:
    """Every regular file below `top`; refused names and unreadable folders go to `blocked`."""
    real_top = os.path.realpath(top)
    # Temps of a sync running now (the app audits without the lock) are not the user's.
    ours = journalled(temp_journal_of(top))
    found: list[_Found] = []
    stack = [""]
    while stack:
        if cancel is not None:
            cancel.raise_if_cancelled()
        rel_dir = stack.pop()
        try:
            folder = str(top / rel_dir) if rel_dir else str(top)
            entries = list(os.scandir(folder))
        except OSError as exc:
            scan.blocked.append(
                PathIssue(f"{rel_dir}/", f"folder cannot be read ({exc.strerror})", "local")
            )
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if is_temp_name(entry.name):
                if not is_ours(entry.name, ours.get(folder, set())):
                    scan.blocked.append(PathIssue(_printable(rel), TEMP_NAME_PROBLEM, "local"))
                continue
            problem = _name_problem(rel)
            if problem:
                scan.blocked.append(PathIssue(_printable(rel), problem, "local"))
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not _inside(target, real_top):
                        scan.in_the_way[normalise(rel)] = OUTSIDE_LINK
                        scan.blocked.append(
                            PathIssue(rel, "symbolic link pointing outside training_data/", "local")
                        )
                        continue
                    if os.path.isdir(target):
                        # Its files are synced under their real folder; following could loop.
                        scan.notes.append(PathIssue(rel, "symbolic link to a folder, skipped"))
                        scan.in_the_way[normalise(rel)] = FOLDER_LINK
                        continue
                st = entry.stat()
            except OSError as exc:
                scan.blocked.append(PathIssue(rel, f"cannot be read ({exc.strerror})", "local"))
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
            elif stat.S_ISREG(st.st_mode):
                found.append(_Found(normalise(rel), rel, entry.path, FileStamp.of(st), st.st_mtime))
            else:
                scan.notes.append(PathIssue(rel, "not a regular file, skipped"))
                scan.in_the_way[normalise(rel)] = kind_of(st.st_mode)
    return found


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _name_problem(rel: str) -> str | None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    return relative_path_problem(rel)


def scan_local(
    training_dir: Path,
    cache: HashCache,
    *,
    rehash: bool = False,
    workers: int = 4,
    cancel: CancelToken | None = None,
    on_progress: HashProgress | None = None,
    defer: DeferHash | None = None,
) -> LocalScan:
    """List and hash the tree; unchanged files take their MD5 from the cache.

    Files `defer` picks are listed with an empty MD5 and not read: the upload hashes them.
    """
    scan = LocalScan()
    problem = training_link_problem(training_dir)
    if problem:
        raise TrainsyncError(f"{training_dir.parent.name}: training_data {problem}")
    if not training_dir.is_dir():
        return scan
    found = _walk(training_dir, scan, cancel)
    by_key: dict[str, _Found] = {}
    clashes: dict[str, list[_Found]] = {}
    for item in found:
        first = by_key.setdefault(item.key, item)
        if first is not item:
            clashes.setdefault(item.key, [first]).append(item)
    del found
    for key, items in clashes.items():
        del by_key[key]
        names = ", ".join(sorted(i.rel for i in items))
        scan.blocked.append(
            PathIssue(key, f"names clash after Unicode normalisation ({names})", "local")
        )
    cached = {} if rehash else cache.lookup_tree(training_dir)

    def keep(item: _Found, md5: str) -> None:
        rel = "" if item.rel == item.key else item.rel
        scan.files[item.key] = LocalFile(
            item.key, item.stamp.size, item.mtime, md5, rel, item.stamp.ctime_ns
        )

    todo: list[_Found] = []
    for item in by_key.values():
        hit = cached.get(item.absolute)
        if hit is not None and item.stamp.matches(hit):
            keep(item, hit[6])
        else:
            todo.append(item)
    del cached
    fresh = _hash_all(todo, scan, workers, cancel, on_progress, defer)
    cache.store(row for row in fresh if row[2])
    item_of = {i.absolute: i for i in todo}
    for absolute, _, md5 in fresh:
        keep(item_of[absolute], md5)
    return scan


def _hash_all(
    todo: list[_Found],
    scan: LocalScan,
    workers: int,
    cancel: CancelToken | None,
    on_progress: HashProgress | None,
    defer: DeferHash | None = None,
) -> list[tuple[str, FileStamp, str]]:
    """Hash files on several threads; a file that changes while read is reported, not kept.

    A deferred file comes back with an empty MD5."""
    if not todo:
        return []
    results: list[tuple[str, FileStamp, str]] = []
    done_files = 0
    done_bytes = 0
    deferred = 0

    def one(item: _Found) -> tuple[_Found, str | None, str | None]:
        if cancel is not None and cancel.cancelled:
            return item, None, "cancelled"
        if defer is not None and defer(item.key):
            return item, "", None
        try:
            md5 = md5_file(item.absolute, cancel)
            after = FileStamp.of(os.stat(item.absolute))
        except OSError as exc:
            return item, None, f"cannot be read ({exc.strerror})"
        if after != item.stamp:
            return item, None, "changed while it was being hashed; sync again when it is written"
        return item, md5, None

    def batch(items: list[_Found]) -> list[tuple[_Found, str | None, str | None]]:
        return [one(item) for item in items]

    # Large files first, so one big file does not finish alone at the end.
    todo.sort(key=lambda i: -i.stamp.size)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hash") as pool:
        for found in pool.map(batch, _batches(todo)):
            for item, md5, problem in found:
                if md5 is None:
                    if problem != "cancelled":
                        scan.blocked.append(PathIssue(item.key, problem or "unreadable", "local"))
                    continue
                results.append((item.absolute, item.stamp, md5))
                if md5:
                    done_files += 1
                    done_bytes += item.stamp.size
                else:
                    deferred += 1  # not to hash now: no longer counted among the files to hash
            if on_progress is not None:
                on_progress(done_files, done_bytes, len(todo) - deferred)
    if cancel is not None:
        cancel.raise_if_cancelled()
    return results


def _batches(todo: list[_Found]) -> Iterator[list[_Found]]:
    """Files in groups of about _BATCH_BYTES (a big file alone): handing each small file to a
    thread on its own (a future, a lock hand-off, a GIL switch) cost more than hashing it."""
    group: list[_Found] = []
    size = 0
    for item in todo:
        group.append(item)
        size += item.stamp.size + _PER_FILE_BYTES
        if size >= _BATCH_BYTES or len(group) >= _BATCH_FILES:
            yield group
            group, size = [], 0
    if group:
        yield group
