"""Run a plan: actions concurrently, ops of one action in order, the manifest checkpointed."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, ManifestError, TransferError
from trainsync_tui.engine.events import (
    EventSink,
    FileDone,
    FileFailed,
    FileStarted,
    Message,
    Progress,
)
from trainsync_tui.engine.hashing import FileStamp, HashCache
from trainsync_tui.engine.local.landing import Landing
from trainsync_tui.engine.local.manifest import ManifestChanges, write_manifest
from trainsync_tui.engine.local.tempfiles import TempFiles
from trainsync_tui.engine.plan.build import Action, Plan
from trainsync_tui.engine.plan.counts import predicted_counts
from trainsync_tui.engine.plan.steps import (
    BackupLocal,
    BackupS3,
    CopyS3,
    Download,
    LinkLocal,
    TrashLocal,
    TrashS3,
    Upload,
)
from trainsync_tui.engine.run.kept import kept_for_resume
from trainsync_tui.engine.run.report import SyncReport, size_text
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.scanned import ManifestEntry, RemoteObject
from trainsync_tui.engine.transfer.multipart import FileJob
from trainsync_tui.engine.transfer.transfers import Transfers
from trainsync_tui.engine.transfer.upload_journal import UploadJournal

_CHECKPOINT_SECONDS = 10.0
_PROGRESS_SECONDS = 0.25

_VERBS = {
    "upload": "uploaded",
    "download": "downloaded",
    "add_to_manifest": "added to manifest",
    "update_manifest": "updated in manifest",
    "remove_from_manifest": "removed from manifest",
    "conflict": "resolved conflict",
    "delete_local": "moved to local trash",
    "delete_s3": "deleted from S3 (kept in trash)",
}


@dataclass(frozen=True, slots=True)
class _ManifestEdits:
    """The manifest steps of one finished action, written into the run's pending changes."""

    changes: ManifestChanges
    now_iso: Callable[[], str]
    unchecked: bool

    def record(self, path: str, md5: str, size: int) -> None:
        self.changes.record(path, ManifestEntry(md5, size, self.now_iso(), self.unchecked))

    def unrecord(self, path: str) -> None:
        self.changes.unrecord(path)


class Executor:
    """Carries out one actor's plan; never raises for a single path, only for cancel."""

    def __init__(
        self,
        layout: ActorLayout,
        transfers: Transfers,
        cache: HashCache,
        *,
        concurrency: int,
        cancel: CancelToken,
        sink: EventSink,
        now_iso: Callable[[], str],
        stamp: str,
        versioned: Callable[[], bool],
    ) -> None:
        self.layout = layout
        self.transfers = transfers
        self.cache = cache
        self.concurrency = concurrency
        self.cancel = cancel
        self.sink = sink
        self.now_iso = now_iso
        self.stamp = stamp
        self.versioned = versioned
        self.changes = ManifestChanges()
        self._lock = threading.Lock()
        self._bytes_done = 0
        self._files_done = 0
        self._last_progress = 0.0
        self._started = time.monotonic()
        self._plan_bytes = 0
        self._plan_files = 0
        self.temps = TempFiles(layout)
        self.landing = Landing(layout, self.temps, stamp)
        # This root's multipart uploads by upload ID: resumed by a later run if cut short.
        self.journal = UploadJournal(layout.multipart_journal)
        self.bytes_resumed = 0
        # Whole parts of each multipart upload read for sending (resumed parts included):
        # what a cancel leaves in S3 for the next run, by key.
        self._parts_sent: dict[str, int] = {}

    # -- scheduling ----------------------------------------------------------------------

    def run(self, plan: Plan, report: SyncReport) -> None:
        self._plan_bytes = plan.bytes_to_transfer
        self._plan_files = len(plan.actions)
        self._started = time.monotonic()
        actions = iter(plan.actions)
        in_flight: dict[Future[dict[str, str]], Action] = {}
        # Finished futures arrive on a queue: O(1) per completion, where wait() registered
        # and removed a waiter on every in-flight future each time (a fifth of the GIL time
        # of many small uploads).
        finished: queue.SimpleQueue[Future[dict[str, str]]] = queue.SimpleQueue()
        last_checkpoint = time.monotonic()
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
                while True:
                    while len(in_flight) < self.concurrency * 2 and not self.cancel.cancelled:
                        action = next(actions, None)
                        if action is None:
                            break
                        future = pool.submit(self._run_action, action)
                        in_flight[future] = action
                        future.add_done_callback(finished.put)
                    if not in_flight:
                        break
                    try:
                        done = [finished.get(timeout=1.0)]
                        while not finished.empty():
                            done.append(finished.get_nowait())
                    except queue.Empty:
                        done = []
                    for future in done:
                        self._finish(in_flight.pop(future), future, plan, report)
                    if time.monotonic() - last_checkpoint > _CHECKPOINT_SECONDS:
                        self._write_manifest(report)
                        last_checkpoint = time.monotonic()
        finally:
            self._write_manifest(report)
            self._emit_progress(force=True)
            self.temps.close()
            report.bytes_resumed += self.bytes_resumed
            if self.cancel.cancelled:
                # Read from disk, not S3: a cancelled run asks S3 nothing more.
                sent = self._parts_sent
                report.kept = kept_for_resume(self.layout, lambda key, _: sent.get(key))

    def _finish(
        self,
        action: Action,
        future: Future[dict[str, str]],
        plan: Plan,
        report: SyncReport,
    ) -> None:
        try:
            verified = future.result()
        except CancelledSync:
            return
        except Exception as exc:
            if self.cancel.cancelled:
                return  # ended by the cancel (its request closed): not a failure of this path
            if isinstance(exc, OSError) and exc.strerror:
                message = exc.strerror
            elif isinstance(exc, TransferError | OSError):
                message = str(exc)
            else:  # a bug or an unexpected S3 answer: report, go on
                message = describe(exc)
            report.errors.append(f"{action.path}: {message}")
            self.sink(FileFailed(self.layout.name, action.path, action.category, message))
            return
        for key in predicted_counts(action.ops, plan.manifest, verified):
            report.add(key)
        for op in action.ops:
            if (sent := op.sends) is not None:
                report.bytes_uploaded += sent.size
            if (fetched := op.fetches) is not None:
                report.bytes_downloaded += fetched.size
                resumed = self.transfers.resumed.get(fetched.key, 0)
                if resumed:
                    report.bytes_resumed += resumed
                    text = f"resumed {size_text(resumed)} of {size_text(fetched.size)}"
                    self.sink(Message(self.layout.name, "info", f"{action.path}: {text}"))
                # No MD5 from S3: the download checked its multipart ETag, or could not.
                if fetched.md5 is None:
                    if fetched.key in self.transfers.unverified:
                        report.unverified.append(fetched.path)
                    else:
                        report.verified_on_transfer.append(fetched.path)
        # What the manifest records of this path rests on an object nothing could check: one
        # downloaded unchecked now, or one only our earlier unchecked download vouches for.
        unchecked = any(
            (fetched := op.fetches) is not None and fetched.key in self.transfers.unverified
            for op in action.ops
        ) or (
            action.remote is not None
            and action.remote.unchecked
            and not any(op.sends is not None for op in action.ops)
        )
        edits = _ManifestEdits(self.changes, self.now_iso, unchecked)
        with self._lock:
            for op in action.ops:
                op.edit_manifest(edits, verified)
            self._files_done += 1
        verb = _VERBS.get(action.category, action.category)
        if action.resolved:
            verb = f"{verb} ({action.resolved})"
        self.sink(
            FileDone(
                self.layout.name,
                action.path,
                action.category,
                action.size,
                f"{verb}: {action.path}",
            )
        )
        self._emit_progress()

    def _remember(self, path: Path, md5: str, stamp: FileStamp | None = None) -> None:
        """Queue the hash-cache row of a file this run wrote or hashed (stored in batches)."""
        self.cache.store_later(str(path), stamp or FileStamp.of(os.stat(path)), md5)

    def _write_manifest(self, report: SyncReport) -> None:
        self.cache.flush()
        with self._lock:
            if not self.changes:
                return
            changes = ManifestChanges(dict(self.changes.upserts), set(self.changes.removed))
        try:
            write_manifest(
                self.layout.manifest_path,
                self.layout.actor_id,
                self.layout.name,
                changes,
                self.now_iso(),
            )
        except (ManifestError, OSError) as exc:
            message = f"manifest: not written ({exc})"
            if message not in report.errors:
                report.errors.append(message)

    def _add_bytes(self, n: int) -> None:
        with self._lock:
            self._bytes_done += n
        self._emit_progress()

    def _part_meter(self, job: FileJob) -> Callable[[int], None]:
        """Progress of a multipart upload that also keeps its whole parts read by key (parts
        read in parallel finish about together, so whole parts of the total are a fair
        count of those S3 holds)."""
        read = 0
        part = job.hashes.part_size

        def on_bytes(n: int) -> None:
            nonlocal read
            read += n
            with self._lock:
                self._parts_sent[job.key] = read - read % part if read < job.stamp.size else read
            self._add_bytes(n)

        return on_bytes

    def _emit_progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_progress < _PROGRESS_SECONDS:
                return
            self._last_progress = now
            event = Progress(
                self.layout.name,
                self._files_done,
                self._plan_files,
                self._bytes_done,
                self._plan_bytes,
                now - self._started,
                bytes_resumed=self.transfers.bytes_resumed,
            )
        self.sink(event)

    # -- one action ----------------------------------------------------------------------

    def _run_action(self, action: Action) -> dict[str, str]:
        """Run the ops in order; returns the MD5 verified for each destination path."""
        self.sink(FileStarted(self.layout.name, action.path, action.category, action.size))
        verified: dict[str, str] = {}
        for op in action.ops:
            self.cancel.raise_if_cancelled()
            written = op.run(self)
            if written is not None:
                path, md5 = written
                verified[path] = md5
        return verified

    # -- the steps (StepRunner) ------------------------------------------------------------

    def upload(self, step: Upload) -> str:
        same = step.replaces is not None and step.replaces.path == step.dest
        key = step.replaces.key if same and step.replaces else self.layout.key(step.dest)
        replaces = step.replaces.etag if same and step.replaces else None
        source = self.layout.local(step.local.disk_path)
        # A file new on both sides comes without an MD5: the audit left it to the upload,
        # which hashes it in the same read it needs anyway.
        md5 = step.local.md5 or None
        if step.local.size >= self.transfers.threshold:
            hashes, stamp = self.transfers.hash_for_upload(
                source, step.local.size, step.local.mtime, md5, step.local.ctime_ns
            )
            if md5 is None:
                self._remember(source, hashes.md5, stamp)
            job = FileJob(source, step.local.disk_path, key, hashes, stamp, replaces)
            sent = self.transfers.upload_parts(job, self.journal, self._part_meter(job))
            self.cache.remember_etag(sent.etag, step.local.size, hashes.md5)
            if sent.resumed:
                with self._lock:
                    self.bytes_resumed += sent.resumed
                whole = size_text(step.local.size)
                text = f"{step.dest}: resumed {size_text(sent.resumed)} of {whole}"
                self.sink(Message(self.layout.name, "info", text))
            return hashes.md5
        if md5 is None:
            md5, stamp = self.transfers.put_new(
                source,
                key,
                step.local.size,
                step.local.mtime,
                replaces,
                self._add_bytes,
                step.local.ctime_ns,
            )
            self._remember(source, md5, stamp)
            return md5
        self.transfers.put(source, key, md5, replaces, self._add_bytes)
        return md5

    def download(self, step: Download) -> str:
        """Fetch into a temp file, verify, then rename into place unless the local file
        changed (or a new path appeared) during the download."""
        remote = step.remote
        replaces = step.replaces
        if replaces is not None and replaces.path != step.dest:
            replaces = None
        target = self.landing.target(replaces.disk_path if replaces else step.dest)
        before = self.landing.expect(replaces, target)
        temp = self.temps.new(target)
        try:
            md5 = self.transfers.download(remote, temp, self._add_bytes)
            if remote.last_modified:
                os.utime(temp, (time.time(), remote.last_modified))
            self.cancel.raise_if_cancelled()
        except BaseException:
            self.temps.discard(temp)
            raise
        self.landing.land(temp, target, before)
        self._remember(target, md5)
        unchecked = remote.key in self.transfers.unverified
        self.cache.remember_etag(remote.etag, remote.size, md5, unverified=unchecked)
        return md5

    def copy_s3(self, step: CopyS3) -> None:
        self.transfers.copy(step.remote, self.layout.key(step.dest))

    def link_local(self, step: LinkLocal) -> None:
        self._remember(self.landing.link(step.local, step.dest), step.local.md5)

    def trash_local(self, step: TrashLocal) -> None:
        self.landing.trash(step.local)

    def trash_s3(self, step: TrashS3) -> None:
        self._backup_s3(step.remote)
        self.transfers.delete(step.remote.key, step.remote.etag)

    def backup_local(self, step: BackupLocal) -> None:
        self.landing.backup(step.local)

    def backup_s3(self, step: BackupS3) -> None:
        self._backup_s3(step.remote)

    def _backup_s3(self, remote: RemoteObject) -> None:
        if self.versioned():
            return  # S3 keeps the previous version itself
        self.transfers.copy(remote, f"{self.layout.trash_prefix}{self.stamp}/{remote.path}")
