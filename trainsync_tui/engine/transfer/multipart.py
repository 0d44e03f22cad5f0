"""Multipart uploads driven part by part: each part with its Content-MD5, parts of an
interrupted upload of the same file kept, and a completion that lands only over the object
the audit saw (If-None-Match / If-Match), never silently over another writer's."""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainsync_tui.engine.errors import CancelledSync, TransferError
from trainsync_tui.engine.hashing import FileStamp, PartHashes
from trainsync_tui.engine.local.stamps import stamp_now
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.conditions import CHANGED_IN_S3, delete_own
from trainsync_tui.engine.s3.error_codes import (
    is_bad_digest,
    is_missing_object,
    is_missing_upload,
    is_not_implemented,
    is_precondition_failed,
)
from trainsync_tui.engine.s3.partsize import encrypted
from trainsync_tui.engine.transfer.context import InContext, TransferContext
from trainsync_tui.engine.transfer.part_readers import FileShrank, PartCancelled, open_part
from trainsync_tui.engine.transfer.upload_journal import JournalEntry, UploadJournal

BytesFn = Callable[[int], None]
CHANGED_WHILE_SENT = "changed while it was being uploaded; it will be synced next run"


def md5_metadata(md5: str) -> dict[str, str]:
    """The MD5 as trainsync reads it back, and as rclone does (base64, `md5chksum`)."""
    return {"md5": md5, "md5chksum": base64.b64encode(bytes.fromhex(md5)).decode()}


class _Discard(TransferError):
    """The upload can never complete into the right object: abort it, do not resume it."""


@dataclass(frozen=True)
class Sent:
    etag: str
    resumed: int  # bytes of parts kept from an earlier, interrupted run


@dataclass(frozen=True)
class FileJob:
    source: Path
    disk_path: str
    key: str
    hashes: PartHashes
    stamp: FileStamp
    replaces: str | None  # the audited ETag of the object replaced; None for a new key


class MultipartSender(InContext):
    """One run's multipart uploads: parts on a shared pool, upload IDs in the root's journal."""

    def __init__(
        self,
        context: TransferContext,
        *,
        workers: int,
        resume_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.context = context
        self.resume_seconds = resume_seconds
        self.clock = clock
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="part")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def upload(
        self,
        job: FileJob,
        journal: UploadJournal,
        on_bytes: BytesFn,
        on_kept: BytesFn = lambda _: None,
    ) -> Sent:
        """`on_kept` hears the bytes of parts kept from an earlier run before `on_bytes`
        counts them done (they are progress, not speed)."""
        upload_id, kept = self._resumable(job, journal)
        resumed = sum(self._span(job, n)[1] for n in kept)
        if resumed:
            on_kept(resumed)
            on_bytes(resumed)
        if upload_id is None:
            upload_id = self._start(job, journal)
        try:
            parts, opaque = self._send_parts(job, upload_id, kept, on_bytes)
            reply = self._complete(job, upload_id, parts)
        except _Discard:
            self._abort(job.key, upload_id)
            journal.remove(upload_id)
            if stamp_now(job.source) != job.stamp:
                raise TransferError(CHANGED_WHILE_SENT) from None
            raise
        except TransferError:
            # Kept for the next run (a dropped link, a server error); a file that changed
            # under the upload is the cause to report, and its parts are worthless.
            if stamp_now(job.source) != job.stamp:
                self._abort(job.key, upload_id)
                journal.remove(upload_id)
                raise TransferError(CHANGED_WHILE_SENT) from None
            raise
        # Done either way: a journal line left behind names an upload S3 no longer has.
        with contextlib.suppress(OSError):
            journal.remove(upload_id)
        etag = str(reply.get("ETag", "")).strip('"')
        self._verify(job, etag, opaque or encrypted(reply))
        return Sent(etag, resumed)

    def _start(self, job: FileJob, journal: UploadJournal) -> str:
        """Create the upload and journal its ID (an upload we cannot journal is aborted)."""
        self.check_unchanged(job.key, job.replaces)
        try:
            journal.creating(job.key)
        except OSError as exc:
            raise TransferError(f"cannot journal its upload ({exc.strerror or exc})") from None
        try:
            reply = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=job.key, Metadata=md5_metadata(job.hashes.md5)
            )
        except Exception as exc:
            # Not swept here: a create that failed every attempt most often met a server that
            # does not answer, and a listing would wait out a deadline per file. Its key stays
            # noted: an attempt whose answer was lost (or cut by a cancel) may have made an
            # upload, which the next run of this root aborts.
            raise TransferError(describe(exc)) from None
        upload_id = str(reply["UploadId"])
        if reply.get("ResponseMetadata", {}).get("RetryAttempts"):
            self._drop_twins(job.key, journal, keep=upload_id)
        try:
            journal.add(self._entry(job, upload_id))
        except OSError as exc:
            self._abort(job.key, upload_id)
            raise TransferError(f"cannot journal its upload ({exc.strerror or exc})") from None
        with contextlib.suppress(OSError):
            journal.created(job.key)  # journalled by ID from here on
        return upload_id

    def _drop_twins(self, key: str, journal: UploadJournal, keep: str) -> None:
        """Abort what an attempt of this create whose answer was lost left behind: uploads of
        `key` that are not `keep`, not journalled and hold no part. No one would ever resume
        or complete them. Another writer's running upload has parts (and under the actor's
        lease no other trainsync starts one); the stale clean-up remains the backstop."""
        ours = {e.upload_id for e in journal.entries()}
        with contextlib.suppress(Exception):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=key
            )
            twins = [
                u["UploadId"]
                for page in pages
                for u in page.get("Uploads", [])
                if u["Key"] == key and u["UploadId"] != keep and u["UploadId"] not in ours
            ]
            for upload_id in twins:
                if not self._list_parts(key, upload_id):
                    self._abort(key, upload_id)

    def _entry(self, job: FileJob, upload_id: str) -> JournalEntry:
        st = job.stamp
        return JournalEntry(
            key=job.key,
            upload_id=upload_id,
            path=job.disk_path,
            md5=job.hashes.md5,
            size=st.size,
            mtime_ns=st.mtime_ns,
            inode=st.inode,
            part_size=job.hashes.part_size,
            started=self.clock(),
        )

    # -- resume --------------------------------------------------------------------------

    def _resumable(self, job: FileJob, journal: UploadJournal) -> tuple[str | None, dict[int, str]]:
        """The journalled upload of this very file and the part numbers S3 holds intact."""
        entry = journal.find(job.key)
        if entry is None:
            return None, {}
        fresh = self.clock() - entry.started < self.resume_seconds
        if fresh and entry.fits(job.stamp, job.hashes.part_size, job.hashes.md5):
            try:
                listed = self._list_parts(job.key, entry.upload_id)
            except Exception:
                listed = None  # gone (aborted, completed) or unreadable: start again
            if listed is not None:
                kept = {n: e for n, (e, size) in listed.items() if self._intact(job, n, e, size)}
                if len(kept) == len(listed):
                    return entry.upload_id, kept
        # A changed file, a part that does not match, or too old: its parts are not ours to use.
        self._abort(job.key, entry.upload_id)
        journal.remove(entry.upload_id)
        return None, {}

    def _list_parts(self, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
        found: dict[int, tuple[str, int]] = {}
        paginator = self.client.get_paginator("list_parts")
        for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
            for part in page.get("Parts", []):
                found[int(part["PartNumber"])] = (str(part["ETag"]), int(part["Size"]))
        return found

    def _intact(self, job: FileJob, n: int, etag: str, size: int) -> bool:
        if not 1 <= n <= len(job.hashes.parts):
            return False
        return etag.strip('"') == job.hashes.parts[n - 1].hex() and size == self._span(job, n)[1]

    def _abort(self, key: str, upload_id: str) -> None:
        # Gone already, or left to the stale clean-up: nothing more to do here.
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    # -- parts ---------------------------------------------------------------------------

    def _span(self, job: FileJob, n: int) -> tuple[int, int]:
        start = (n - 1) * job.hashes.part_size
        return start, min(job.hashes.part_size, job.stamp.size - start)

    def _send_parts(
        self, job: FileJob, upload_id: str, kept: dict[int, str], on_bytes: BytesFn
    ) -> tuple[list[dict[str, Any]], bool]:
        """Send every part not kept; returns the parts list for completion and whether S3's
        part ETags were opaque (not the parts' MD5s: SSE-KMS, SSE-C, some gateways)."""
        etags = dict(kept)
        futures: dict[Future[tuple[str, bool]], int] = {}
        for n in range(1, len(job.hashes.parts) + 1):
            if n not in etags:
                futures[self._pool.submit(self._part, job, upload_id, n, on_bytes)] = n
        opaque = False
        unregister = self.cancel.on_cancel(lambda: [f.cancel() for f in list(futures)])
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                self.cancel.raise_if_cancelled()
                for future in done:
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise self._part_error(error) from None
                    etags[futures[future]], part_opaque = future.result()
                    opaque = opaque or part_opaque
        finally:
            unregister()
        parts = [{"ETag": etags[n], "PartNumber": n} for n in sorted(etags)]
        return parts, opaque

    def _part(self, job: FileJob, upload_id: str, n: int, on_bytes: BytesFn) -> tuple[str, bool]:
        self.cancel.raise_if_cancelled()
        start, length = self._span(job, n)
        body = open_part(str(job.source), start, length, self._metered(on_bytes), self.cancel)
        try:
            reply = self.client.upload_part(
                Bucket=self.bucket,
                Key=job.key,
                UploadId=upload_id,
                PartNumber=n,
                Body=body,
                ContentLength=length,
                ContentMD5=job.hashes.content_md5(n),
            )
        finally:
            body.close()
        etag = str(reply.get("ETag", ""))
        return etag, encrypted(reply) or etag.strip('"') != job.hashes.parts[n - 1].hex()

    def _metered(self, on_bytes: BytesFn) -> BytesFn:
        """Progress that also draws from --bwlimit: called as the part's bytes are read for
        the socket, in the sending thread, so the wait holds back the send itself."""

        def read(n: int) -> None:
            self.throttle.take("up", n, self.cancel)
            on_bytes(n)

        return read

    def _part_error(self, error: BaseException) -> Exception:
        if self.cancel.cancelled or isinstance(error, PartCancelled | CancelledSync):
            return CancelledSync()
        if isinstance(error, FileShrank) or is_bad_digest(error):
            return _Discard(CHANGED_WHILE_SENT)
        if is_missing_upload(error):
            return _Discard("its unfinished upload was removed from S3 meanwhile; sync again")
        if isinstance(error, OSError) and error.strerror:
            return TransferError(f"cannot be read ({error.strerror})")
        return TransferError(describe(error))

    # -- completion ----------------------------------------------------------------------

    def check_unchanged(self, key: str, replaces: str | None) -> None:
        """Refuse to go on if the object at `key` is not the one the audit saw."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            current = str(head.get("ETag", "")).strip('"')
        except Exception as exc:
            if not is_missing_object(exc):
                raise TransferError(describe(exc)) from None
            current = None
        if current != replaces:
            raise _Discard(CHANGED_IN_S3)

    def _complete(
        self, job: FileJob, upload_id: str, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        # The condition makes the completion itself safe; the HEAD before it also catches a
        # server that ignores the condition (moto 5 ignores If-Match here) in all but a
        # moment's window.
        self.check_unchanged(job.key, job.replaces)
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": job.key,
            "UploadId": upload_id,
            "MultipartUpload": {"Parts": parts},
        }
        if self.conditions.enabled:
            if job.replaces:
                args["IfMatch"] = f'"{job.replaces}"'
            else:
                args["IfNoneMatch"] = "*"
        try:
            return dict(self.client.complete_multipart_upload(**args))
        except Exception as exc:
            if is_precondition_failed(exc) or is_missing_upload(exc):
                # A retry of our own completion whose first reply was lost fails this way
                # too: S3 then holds exactly our object, which is success.
                mine = self._ours_now(job)
                if mine is not None:
                    return mine
                raise _Discard(CHANGED_IN_S3) from None
            if is_not_implemented(exc) and self.conditions.enabled:
                self.conditions.refused("conditional multipart completion")
                return self._complete(job, upload_id, parts)
            raise TransferError(describe(exc)) from None

    def _ours_now(self, job: FileJob) -> dict[str, Any] | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=job.key)
        except Exception:
            return None
        etag = str(head.get("ETag", "")).strip('"')
        if etag in (job.hashes.etag(), job.hashes.md5):
            return dict(head)
        # Where ETags are not MD5s only the metadata can say (another writer's identical
        # bytes would pass too: no loss either way).
        if encrypted(head) and head.get("Metadata", {}).get("md5") == job.hashes.md5:
            return dict(head)
        return None

    def _verify(self, job: FileJob, etag: str, opaque: bool) -> None:
        """S3 must hold exactly the bytes hashed, from a file that is still them."""
        problem = None
        if stamp_now(job.source) != job.stamp:
            # S3 holds the bytes hashed, but the file is no longer them: record nothing.
            problem = CHANGED_WHILE_SENT
        elif not opaque and etag not in (job.hashes.etag(), job.hashes.md5):
            # Each part's Content-MD5 was checked; an ETag that is neither the multipart ETag
            # of those parts nor (on some gateways) the file's MD5 means other bytes.
            problem = (
                f"S3 holds different bytes than were sent "
                f"(ETag {etag}, expected {job.hashes.etag()})"
            )
        if problem:
            # Never leave an object the manifest does not describe looking valid, but delete
            # only our own: the If-Match keeps another writer's object safe.
            outcome = delete_own(self.client, self.bucket, job.key, etag, self.conditions)
            raise TransferError(f"{problem} ({outcome})")
