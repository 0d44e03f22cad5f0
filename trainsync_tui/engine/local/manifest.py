"""Manifest v1 (SPEC §2): strict reading, atomic writes with a .bak, unknown fields kept."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainsync_tui.engine.actors.layout import MANIFEST_NAME
from trainsync_tui.engine.errors import ManifestError
from trainsync_tui.engine.paths import normalise, relative_path_problem
from trainsync_tui.engine.scanned import ManifestEntry

_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Manifest:
    """A parsed manifest; `raw` keeps every field so a rewrite loses nothing."""

    actor_id: str
    actor_name: str
    raw: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    exists: bool = False


def _fail(path: Path, why: str) -> ManifestError:
    return ManifestError(f"{path}: {why}; fix or move it away (it was left untouched)")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


_KNOWN_TOP = frozenset(("version", "actor_id", "actor_name", "updated_at", "files"))
_KNOWN_ENTRY = frozenset(("md5", "size", "updated_at", "md5_source"))
# How an entry's MD5 was obtained, where it is not the default (read, or checked against S3).
UNVERIFIED_SOURCE = "unverified download"
# Unknown fields are kept and written back; json's encoder recurses, so a value nested near
# the interpreter's limit could be read here and then fail to be written after a sync.
_MAX_EXTRA_DEPTH = 100


def _objects() -> Any:
    """json's object hook for one file: refuses a duplicate key (readers disagree on which
    value wins), and turns an entry in trainsync's own form into a ManifestEntry at once:
    a dict per entry costs three times the memory, and a manifest may list 600,000 files."""
    stamps: dict[str, str] = {}  # one string per distinct updated_at, not one per entry

    def hook(pairs: list[tuple[str, Any]]) -> Any:
        if len(pairs) == 3:
            (k1, md5), (k2, size), (k3, updated) = pairs
            if (
                k1 == "md5"
                and k2 == "size"
                and k3 == "updated_at"
                and isinstance(md5, str)
                and _MD5.match(md5)
                and type(size) is int
                and size >= 0
                and isinstance(updated, str)
            ):
                return ManifestEntry(md5, size, stamps.setdefault(updated, updated))
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _DuplicateKey(key)
                seen.add(key)
        return obj

    return hook


def _too_deep(value: Any) -> bool:
    """Whether `value` nests lists/objects more than _MAX_EXTRA_DEPTH levels (no recursion)."""
    level: list[Any] = [value]
    for _ in range(_MAX_EXTRA_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return False
    return any(isinstance(item, dict | list) for item in level)


def _decode(data: bytes) -> str:
    """UTF-8 (a BOM allowed) or a UTF-16/32 file as json.loads accepts it; binary garbage
    fails as "not UTF-8" instead of with the codec json.loads would have guessed."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as not_utf8:
        encoding = json.detect_encoding(data)
        if encoding.startswith(("utf-16", "utf-32")):
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode(encoding)
        raise not_utf8 from None


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        raw = json.loads(text, object_pairs_hook=_objects())
    except _DuplicateKey as exc:
        raise _fail(
            path, f"has the key {exc.key!r} twice in one object (which is meant?)"
        ) from None
    except RecursionError:
        raise _fail(path, "is nested too deeply to be a manifest") from None
    except ValueError as exc:
        raise _fail(path, f"is not valid JSON ({exc})") from None
    if isinstance(raw, ManifestEntry):  # an object that looks like one entry, not a manifest
        raw = _as_json(raw)
    if not isinstance(raw, dict):
        raise _fail(path, "is not a JSON object")
    return raw


def _entry(path: Path, name: str, info: Any) -> ManifestEntry:
    """A manifest entry not in trainsync's own form (other key order, extra fields)."""
    if isinstance(info, ManifestEntry):
        return info
    if not isinstance(info, dict):
        raise _fail(path, f"entry {name!r} is not an object")
    md5, size = info.get("md5"), info.get("size")
    if not isinstance(md5, str) or not _MD5.match(md5):
        raise _fail(path, f"entry {name!r} has no valid md5")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail(path, f"entry {name!r} has no valid size")
    for key in info.keys() - _KNOWN_ENTRY:
        if _too_deep(info[key]):
            raise _fail(path, f"entry {name!r}: {key!r} is nested over {_MAX_EXTRA_DEPTH} deep")
    updated = info.get("updated_at", "")
    unverified = info.get("md5_source") == UNVERIFIED_SOURCE
    return ManifestEntry(md5, size, updated if isinstance(updated, str) else "", unverified)


def load_manifest(path: Path, actor_id: str, actor_name: str) -> Manifest:
    """Read and validate; a missing file is an empty manifest."""
    try:
        text = _decode(path.read_bytes())  # the bytes go before parsing: 70 MB for 600k files
    except FileNotFoundError:
        return Manifest(actor_id, actor_name)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise _fail(path, f"is not UTF-8 text (byte {exc.start})") from None
    raw = _parse(path, text)
    del text
    if raw.get("version") != 1:
        raise _fail(path, f"has version {raw.get('version')!r}, expected 1")
    files = raw.get("files")
    if not isinstance(files, dict):
        raise _fail(path, "has no 'files' object")
    for key in ("actor_id", "actor_name"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail(path, f"'{key}' is not a string")
    # An actor is its NFC name (a macOS tool may have written the NFD form).
    if raw.get("actor_name") not in (None, actor_name) and normalise(
        raw["actor_name"]
    ) != normalise(actor_name):
        raise _fail(path, f"belongs to actor {raw.get('actor_name')!r}, not {actor_name!r}")
    for key in raw.keys() - _KNOWN_TOP:
        if _too_deep(raw[key]):
            raise _fail(path, f"{key!r} is nested over {_MAX_EXTRA_DEPTH} levels deep")
    # Usually every key is already NFC and every entry in our own form: then the parsed
    # `files` is the entries mapping itself (no second dict of 600,000 items).
    same = True
    for name, info in files.items():
        problem = relative_path_problem(name)
        if problem:
            raise _fail(path, f"lists {name!r}, which {problem}")
        if not isinstance(info, ManifestEntry):
            _entry(path, name, info)
            same = False
        elif not name.isascii() and normalise(name) != name:
            same = False
    if same:
        return Manifest(actor_id, actor_name, raw, files, exists=True)
    entries: dict[str, ManifestEntry] = {}
    for name, info in files.items():
        key = normalise(name)
        if key in entries:
            raise _fail(path, f"lists {name!r} twice (after Unicode normalisation)")
        entries[key] = _entry(path, name, info)
    return Manifest(actor_id, actor_name, raw, entries, exists=True)


def _as_json(value: Any) -> Any:
    if isinstance(value, ManifestEntry):
        entry: dict[str, Any] = {"md5": value.md5, "size": value.size}
        entry["updated_at"] = value.updated_at
        if value.unverified:
            entry["md5_source"] = UNVERIFIED_SOURCE
        return entry
    raise TypeError(f"{type(value).__name__} is not JSON")


@dataclass
class ManifestChanges:
    """What a sync did to the manifest, applied onto the file as it is when written."""

    upserts: dict[str, ManifestEntry] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def record(self, path: str, entry: ManifestEntry) -> None:
        self.removed.discard(path)
        self.upserts[path] = entry

    def unrecord(self, path: str) -> None:
        self.upserts.pop(path, None)
        self.removed.add(path)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removed)


def write_manifest(
    path: Path, actor_id: str, actor_name: str, changes: ManifestChanges, now: str
) -> None:
    """Re-read the manifest, apply `changes`, write it atomically and keep the old as .bak.

    Re-reading keeps edits that someone else made to other paths while we synced.
    """
    current = load_manifest(path, actor_id, actor_name)
    raw = dict(current.raw) if current.exists else {}
    files: dict[str, Any] = {}
    for name, info in (raw.get("files") or {}).items():
        files[normalise(name)] = info
    for name in changes.removed:
        files.pop(name, None)
    for name, entry in changes.upserts.items():
        before = files.get(name)
        if isinstance(before, dict):  # extra fields of that entry are kept
            info = dict(before)
            info.update(md5=entry.md5, size=entry.size, updated_at=entry.updated_at or now)
            info.pop("md5_source", None)
            if entry.unverified:
                info["md5_source"] = UNVERIFIED_SOURCE
            files[name] = info
        else:
            files[name] = ManifestEntry(
                entry.md5, entry.size, entry.updated_at or now, entry.unverified
            )
    raw.update(
        version=1,
        actor_id=raw.get("actor_id") or actor_id,
        actor_name=actor_name,
        updated_at=now,
        files={name: files[name] for name in sorted(files)},
    )
    existed = current.exists
    del files, current  # the entries now live in `raw` alone
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=_as_json)
    atomic_write(path, _in_blocks(encoder.iterencode(raw)), keep_backup=existed)


def _in_blocks(pieces: Iterable[str], size: int = 1 << 20) -> Iterator[bytes]:
    """The encoder's small pieces as ~1 MiB blocks and a final newline: a 600,000-entry
    manifest is never held whole as text and bytes at once (140 MB)."""
    block: list[str] = []
    held = 0
    for piece in pieces:
        block.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(block).encode("utf-8")
            block, held = [], 0
    block.append("\n")
    yield "".join(block).encode("utf-8")


def atomic_write(path: Path, data: bytes | Iterable[bytes], *, keep_backup: bool) -> None:
    """Temp file in the same folder, fsync, rename; the previous version becomes `<name>.bak`.

    The new file keeps the old one's mode (and group, where we may set it), and a first one
    gets 0666 less the umask like any file: training jobs of another user must still read it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            _keep_mode(handle.fileno(), path)
            for block in [data] if isinstance(data, bytes) else data:
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup and path.exists():
            _keep_backup(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temp file opened with 0666, so the kernel applies the umask (mkstemp gives 0600
    and reading the umask would mean setting it, which races with other threads)."""
    for _ in range(100):
        tmp = str(path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp"))
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name beside {path}")


def _keep_mode(fd: int, path: Path) -> None:
    try:
        old = os.stat(path)
    except FileNotFoundError:
        return
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if old.st_gid != os.fstat(fd).st_gid:
        with contextlib.suppress(OSError):  # only a member of that group may set it
            os.fchown(fd, -1, old.st_gid)


def _keep_backup(path: Path) -> None:
    """Hard-link the current version to .bak, so a kill never leaves a half-copied backup."""
    backup = path.with_name(path.name + ".bak")
    staging = path.with_name(f".{path.name}.bak.tmp")
    with contextlib.suppress(FileNotFoundError):
        staging.unlink()
    try:
        os.link(path, staging)
    except OSError:
        shutil.copy2(path, staging)
    os.replace(staging, backup)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temp(folder: Path) -> None:
    """Delete manifest temp files a killed run left (called while holding the actor lock)."""
    for stale in folder.glob(f".{MANIFEST_NAME}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
