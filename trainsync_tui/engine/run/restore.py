"""Bring trashed files back: from <actor>/.trainsync/trash/<stamp>/ and the S3 trash prefix.

A sync that deletes orphans (or overwrites the loser of a conflict) keeps the old bytes under
one stamp per run: locally in the actor's trash folder, in S3 as a copy under the trash
prefix (unless the bucket keeps versions). A restore puts them back at their path, never
over an existing file or object, checks the MD5 of what it placed, and lists in the manifest
each path whose copies now agree.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, ConfigError, TrainsyncError, TransferError
from trainsync_tui.engine.hashing import md5_file
from trainsync_tui.engine.local.flock import actor_lock
from trainsync_tui.engine.local.landing import folder_below
from trainsync_tui.engine.local.manifest import ManifestChanges, load_manifest, write_manifest
from trainsync_tui.engine.local.tempfiles import temp_path
from trainsync_tui.engine.paths import relative_path_problem
from trainsync_tui.engine.s3.client import classify, describe
from trainsync_tui.engine.s3.error_codes import is_missing_object
from trainsync_tui.engine.s3.listing import bucket_versioning
from trainsync_tui.engine.scanned import ManifestEntry, RemoteObject
from trainsync_tui.engine.transfer.context import TransferContext
from trainsync_tui.engine.transfer.transfers import Transfers

if TYPE_CHECKING:
    from trainsync_tui.engine.config import Settings
    from trainsync_tui.engine.transfer.bandwidth import BandwidthLimiter


class RestoreRecorder(Protocol):
    """Where a restore is recorded (run/history.py's HistoryLog)."""

    def restored(self, report: RestoreReport, duration: float, *, cancelled: bool) -> None: ...


class RestoreEngine(Protocol):
    """What a restore uses of the facade's Engine (named here, so run/ needs no import of it)."""

    settings: Settings
    who: str
    throttle: BandwidthLimiter
    history_log: RestoreRecorder

    @property
    def client(self) -> Any: ...

    def client_for(self, cancel: CancelToken | None) -> Any: ...

    def now_iso(self) -> str: ...


_STAMP = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")  # Engine._stamp(): one per sync run
_HEX_MD5 = re.compile(r"^[0-9a-f]{32}$")
_SECOND_COPY = re.compile(r"\.[0-9]+$")
VERSIONED_NOTE = (
    "the bucket keeps versions, so a sync deletes S3 objects without a trash copy: bring "
    "them back from their previous versions (aws s3api list-object-versions)"
)


@dataclass
class TrashStamp:
    """What one sync run put in the trash: local paths and S3 objects (keyed by path)."""

    stamp: str
    local: dict[str, Path] = field(default_factory=dict)
    s3: dict[str, RemoteObject] = field(default_factory=dict)
    # Second local copies of a path trashed twice within one stamp's second: the trash
    # keeps them as "<name>.1", "<name>.2"; they stay there (the path gets the first).
    duplicates: dict[str, str] = field(default_factory=dict)  # "<path>.N" -> path

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.local.values()) + sum(
            o.size for o in self.s3.values()
        )

    def to_json(self) -> dict[str, Any]:
        return {"stamp": self.stamp, "local": sorted(self.local), "s3": sorted(self.s3)}


@dataclass
class RestoreReport:
    actor_name: str
    stamp: str
    dry_run: bool = False
    restored_local: list[str] = field(default_factory=list)
    restored_s3: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why", nothing was changed
    errors: list[str] = field(default_factory=list)
    added_to_manifest: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped or self.errors else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "actor_name": self.actor_name,
            "stamp": self.stamp,
            "dry_run": self.dry_run,
            "restored_local": self.restored_local,
            "restored_s3": self.restored_s3,
            "added_to_manifest": self.added_to_manifest,
            "skipped": self.skipped,
            "errors": self.errors,
            "notes": self.notes,
        }


def list_trash(engine: RestoreEngine, layout: ActorLayout) -> list[TrashStamp]:
    """Every stamp with something to restore, newest first."""
    stamps: dict[str, TrashStamp] = {}
    if layout.trash_dir.is_dir():
        for folder in layout.trash_dir.iterdir():
            if not _STAMP.match(folder.name) or not folder.is_dir():
                continue
            found = TrashStamp(folder.name)
            for path in folder.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    found.local[path.relative_to(folder).as_posix()] = path
            for rel in list(found.local):
                first = _SECOND_COPY.sub("", rel)
                if first != rel and first in found.local:
                    found.duplicates[rel] = first
                    del found.local[rel]
            if found.local:
                stamps[folder.name] = found
    bucket = engine.settings.require_bucket()
    try:
        pages = engine.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=layout.trash_prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                stamp, _, rel = item["Key"][len(layout.trash_prefix) :].partition("/")
                if _STAMP.match(stamp) and rel:
                    etag = str(item.get("ETag", "")).strip('"')
                    md5 = etag if _HEX_MD5.match(etag) else None
                    obj = RemoteObject(rel, item["Key"], int(item["Size"]), etag, 0.0, md5)
                    stamps.setdefault(stamp, TrashStamp(stamp)).s3[rel] = obj
    except Exception as exc:
        raise classify(exc, engine.settings) from None
    return sorted(stamps.values(), key=lambda s: s.stamp, reverse=True)


def trash_notes(engine: RestoreEngine) -> list[str]:
    """What a user must know beside the list: a versioned bucket keeps no S3 trash copies."""
    versioned = bucket_versioning(engine.client, engine.settings.require_bucket())
    return [VERSIONED_NOTE] if versioned() else []


def restore_trash(
    engine: RestoreEngine,
    layout: ActorLayout,
    stamp: str,
    *,
    cancel: CancelToken,
    dry_run: bool = False,
) -> RestoreReport:
    """Put back what the run `stamp` trashed; raises ConfigError for an unknown stamp."""
    found = {s.stamp: s for s in list_trash(engine, layout)}
    if stamp not in found:
        known = ", ".join(sorted(found, reverse=True)[:5]) or "none"
        raise ConfigError(
            f"{layout.name}: nothing in the trash under {stamp!r} (stamps: {known}); "
            f"'trainsync restore {layout.name}' lists them"
        )
    trash = found[stamp]
    report = RestoreReport(layout.name, stamp, dry_run=dry_run, notes=trash_notes(engine))
    for copy, first in sorted(trash.duplicates.items()):
        report.notes.append(
            f"{first}: trashed twice in that second; the later copy stays in the trash as "
            f"{layout.trash_dir / stamp / copy}"
        )
    if dry_run:
        report.restored_local = sorted(trash.local)
        report.restored_s3 = sorted(trash.s3)
        return report
    with actor_lock(engine.settings.state_dir, layout.name, engine.who, cancel=cancel):
        started = time.monotonic()
        try:
            _Restorer(engine, layout, report, cancel).run(trash)
        except CancelledSync:
            engine.history_log.restored(report, time.monotonic() - started, cancelled=True)
            raise
        except TrainsyncError as exc:  # S3 stopped answering: what came back is still recorded
            report.errors.append(str(exc))
            engine.history_log.restored(report, time.monotonic() - started, cancelled=False)
            raise
        engine.history_log.restored(report, time.monotonic() - started, cancelled=False)
    return report


class _Restorer:
    """One restore run, under the actor's lock."""

    def __init__(
        self, engine: RestoreEngine, layout: ActorLayout, report: RestoreReport, cancel: CancelToken
    ) -> None:
        self.engine = engine
        self.layout = layout
        self.report = report
        self.cancel = cancel
        self.bucket = engine.settings.require_bucket()
        # The run's client: a cancel closes a request a silent S3 holds.
        self.client = engine.client_for(cancel)
        self.md5s: dict[str, dict[str, str | None]] = {}  # path -> side -> MD5 placed there

    def run(self, trash: TrashStamp) -> None:
        context = TransferContext.for_run(
            self.client,
            self.bucket,
            self.cancel,
            throttle=self.engine.throttle,  # --bwlimit covers a restore's copies too
            warn=self.report.notes.append,
            endpoint_url=self.engine.settings.endpoint_url,
        )
        transfers = Transfers(
            context,
            threshold=self.engine.settings.multipart_threshold,
            chunksize=self.engine.settings.multipart_chunksize,
            concurrency=self.engine.settings.concurrency,
        )
        try:  # a cancel between files still records what came back (local side included)
            for rel, source in sorted(trash.local.items()):
                self.cancel.raise_if_cancelled()
                self._guarded(rel, "local", lambda r=rel, s=source: self._local(r, s))
            for rel, obj in sorted(trash.s3.items()):
                self.cancel.raise_if_cancelled()
                self._guarded(rel, "s3", lambda r=rel, o=obj: self._s3(r, o, transfers))
        finally:
            transfers.close()
            self._record()
            _prune(self.layout.trash_dir / trash.stamp)

    def _guarded(self, rel: str, side: str, job: Any) -> None:
        where = "local trash" if side == "local" else "S3 trash"
        problem = relative_path_problem(rel)
        if problem:
            self.report.errors.append(f"{rel!r} in the {where}: {problem}; left there")
            return
        try:
            job()
        except TransferError as exc:
            self.cancel.raise_if_cancelled()  # a cancel, not a failure of this path
            self.report.errors.append(f"{rel} ({where}): {exc}; left in the trash")
        except OSError as exc:
            self.report.errors.append(f"{rel} ({where}): {exc.strerror or exc}; left there")

    def _local(self, rel: str, source: Path) -> None:
        """Link the trashed file back at `rel`, as a download lands: through folders opened
        from training_data/ down without following a link, so a folder swapped for a link
        at any moment fails this path with one line instead of writing elsewhere."""
        top = self.layout.training_dir
        folder, _, name = rel.rpartition("/")
        with folder_below(top, folder, create=True) as fd:
            if _taken(name, fd):
                self.report.skipped.append(f"{rel}: exists locally; not overwritten (local trash)")
                return
        md5 = md5_file(source)
        trash = str(source.parent.relative_to(self.layout.actor_dir))
        with folder_below(self.layout.actor_dir, trash) as s_fd, folder_below(top, folder) as fd:
            try:  # fails on an existing name: never overwrites
                os.link(name, name, src_dir_fd=s_fd, dst_dir_fd=fd, follow_symlinks=False)
            except FileExistsError:
                self.report.skipped.append(f"{rel}: exists locally; not overwritten (local trash)")
                return
            except OSError:  # no hard links on this filesystem: a verified copy, renamed in
                self._copy_in(source, name, fd, md5)
            os.unlink(name, dir_fd=s_fd)
        self.report.restored_local.append(rel)
        self.md5s.setdefault(rel, {})["local"] = md5

    def _copy_in(self, source: Path, name: str, folder: int, md5: str) -> None:
        self.layout.staging_dir.mkdir(parents=True, exist_ok=True)
        temp = temp_path(self.layout.staging_dir)  # the next sync clears what a crash leaves
        try:
            shutil.copy2(source, temp)
            if md5_file(temp) != md5:
                raise TransferError("its copy does not have the trashed file's MD5")
            if _taken(name, folder):
                raise TransferError("the name was taken meanwhile; not overwritten")
            os.replace(temp, name, dst_dir_fd=folder)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def _s3(self, rel: str, obj: RemoteObject, transfers: Transfers) -> None:
        dest = self.layout.key(rel)
        if self._head(dest) is not None:
            self.report.skipped.append(f"{rel}: exists in S3; not overwritten (S3 trash)")
            return
        expected = obj.md5 or _md5_of(self._head(obj.key) or {})
        transfers.copy(obj, dest)
        placed = _md5_of(self._head(dest) or {})
        if expected is not None and placed != expected:
            transfers.delete(dest)  # ours: the name was free before the copy
            raise TransferError(f"the restored object's MD5 {placed} is not {expected}")
        transfers.delete(obj.key)
        self.report.restored_s3.append(rel)
        if expected is None:
            self.report.notes.append(f"{rel}: restored to S3 unverified (no MD5 known for it)")
        self.md5s.setdefault(rel, {})["s3"] = expected

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if is_missing_object(exc):
                return None
            raise TransferError(describe(exc)) from None

    def _record(self) -> None:
        """List a restored path in the manifest when every copy of it now has one MD5."""
        manifest = load_manifest(self.layout.manifest_path, self.layout.actor_id, self.layout.name)
        changes = ManifestChanges()
        for rel, sides in sorted(self.md5s.items()):
            if rel in manifest.entries:
                continue  # the manifest already says what this path should hold
            if "local" not in sides and (self.layout.training_dir / rel).is_file():
                sides["local"] = md5_file(self.layout.training_dir / rel)
            try:  # after a cancel S3 is not asked: the path is left to the next sync
                head = self._head(self.layout.key(rel))
            except TransferError as exc:
                self.report.notes.append(
                    f"{rel}: not added to the manifest (S3 not asked: {exc}); the next sync "
                    "reports it"
                )
                continue
            if "s3" not in sides and head is not None:
                sides["s3"] = _md5_of(head)
            values = set(sides.values())
            if len(values) != 1 or None in values:
                self.report.notes.append(
                    f"{rel}: not added to the manifest (its local and S3 copies differ or "
                    "one is unverified); the next sync reports it"
                )
                continue
            size = _size_of(self.layout, rel, head)
            changes.record(rel, ManifestEntry(values.pop() or "", size, self.engine.now_iso()))
            self.report.added_to_manifest.append(rel)
        if changes:
            write_manifest(
                self.layout.manifest_path,
                self.layout.actor_id,
                self.layout.name,
                changes,
                self.engine.now_iso(),
            )


def _taken(name: str, folder: int) -> bool:
    try:
        os.lstat(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    return True


def _md5_of(head: dict[str, Any]) -> str | None:
    etag = str(head.get("ETag", "")).strip('"')
    if _HEX_MD5.match(etag):
        return etag
    value = str((head.get("Metadata") or {}).get("md5", "")).lower()
    return value if _HEX_MD5.match(value) else None


def _size_of(layout: ActorLayout, rel: str, head: dict[str, Any] | None) -> int:
    local = layout.training_dir / rel
    if local.is_file():
        return local.stat().st_size
    return int((head or {}).get("ContentLength", 0))


def _prune(folder: Path) -> None:
    """Remove the stamp's folders left empty by the restore (deepest first)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            with contextlib.suppress(OSError):  # still holds a file that was not restored
                path.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
