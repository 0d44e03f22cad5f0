"""Verified single-object transfers: MD5-checked uploads and downloads that land atomically."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from trainsync_tui.engine.errors import CancelledSync, TransferError
from trainsync_tui.engine.hashing import (
    FileStamp,
    PartHashes,
    hash_parts,
)
from trainsync_tui.engine.local.stamps import read_or_fail, stamp_now, unchanged_since_audit
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.conditions import CHANGED_IN_S3
from trainsync_tui.engine.s3.error_codes import is_not_implemented, is_precondition_failed
from trainsync_tui.engine.transfer.context import TransferContext
from trainsync_tui.engine.transfer.downloads import DOWNLOAD_ATTEMPTS, Downloads
from trainsync_tui.engine.transfer.multipart import (
    CHANGED_WHILE_SENT,
    FileJob,
    Sent,
    encrypted,
    md5_metadata,
)
from trainsync_tui.engine.transfer.part_readers import PartCancelled, memory_body
from trainsync_tui.engine.transfer.upload_journal import UploadJournal

BytesFn = Callable[[int], None]


def _b64(md5_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(md5_hex)).decode()


class Transfers(Downloads):
    """Uploads and downloads for one sync run, sharing a client and a TransferManager."""

    def __init__(
        self,
        context: TransferContext,
        *,
        threshold: int,
        chunksize: int,
        concurrency: int,
        resume_seconds: float = 7 * 86400,
        partial_dir: Path | None = None,
    ) -> None:
        from s3transfer.manager import TransferConfig, TransferManager

        from trainsync_tui.engine.transfer.multipart import MultipartSender
        from trainsync_tui.engine.transfer.part_readers import StrictOSUtils

        # --bwlimit: every byte up or down is drawn from the context's limiter (the engine's,
        # shared by its syncs).
        self.context = context
        self.threshold = threshold
        self.chunksize = chunksize
        # Keys downloaded whose bytes nothing could check (see _verify).
        self.unverified: set[str] = set()
        # Where big downloads keep ranges for resume (resumable_get.py), and what they resumed.
        self.partial_dir = partial_dir
        self.resumed: dict[str, int] = {}
        # Bytes counted done so far that no transfer of this run moved (kept by a run before,
        # both directions): the run's Progress carries it so no front end counts it as speed.
        self.bytes_resumed = 0
        self._resumed_lock = threading.Lock()
        # Built on s3transfer directly, never the CRT client boto3 may pick on GPU hosts,
        # so production runs the code path the tests run. Its handlers on the client also
        # pause the part readers' progress while botocore retries a request.
        self._manager = TransferManager(
            context.client,
            TransferConfig(
                multipart_threshold=threshold,
                multipart_chunksize=chunksize,
                max_request_concurrency=concurrency,
                num_download_attempts=DOWNLOAD_ATTEMPTS,
            ),
            osutil=StrictOSUtils(),
        )
        self._parts = MultipartSender(context, workers=concurrency, resume_seconds=resume_seconds)
        # The ranged GETs of big downloads (parallel_get.py), as many at once as s3transfer's.
        self._range_pool = ThreadPoolExecutor(concurrency, thread_name_prefix="get")

    def _kept(self, n: int) -> None:
        with self._resumed_lock:
            self.bytes_resumed += n

    def close(self) -> None:
        try:
            self._manager.shutdown()
        finally:
            self._parts.close()
            self._range_pool.shutdown(wait=False, cancel_futures=True)

    def _wait(self, future: Any) -> Any:
        """Wait for an s3transfer future; a cancel cancels it (shutdown(cancel=True) is broken)."""
        unregister = self.cancel.on_cancel(lambda: future.cancel())
        try:
            return future.result()
        except CancelledSync:
            raise
        except Exception as exc:
            if self.cancel.cancelled:
                raise CancelledSync() from None
            # Same words as the single-request paths, not s3transfer's own.
            if "did not match expected ETag" in str(exc) or is_precondition_failed(exc):
                raise TransferError(CHANGED_IN_S3) from None
            if isinstance(exc, OSError) and exc.strerror:
                raise TransferError(f"cannot write ({exc.strerror})") from None
            raise TransferError(describe(exc)) from None
        finally:
            unregister()

    # -- uploads -------------------------------------------------------------------------

    def part_size(self, size: int) -> int:
        """The part size a file of `size` bytes is uploaded in (S3 allows 10,000 parts)."""
        from s3transfer.utils import ChunksizeAdjuster

        return int(ChunksizeAdjuster().adjust_chunksize(self.chunksize, size))

    def put(
        self, source: Path, key: str, md5: str, replaces: str | None, on_bytes: BytesFn
    ) -> None:
        """Upload a file under the multipart threshold in one PUT; fails, sending nothing,
        if the file no longer has MD5 `md5`."""
        data = source.read_bytes()
        if hashlib.md5(data, usedforsecurity=False).hexdigest() != md5:
            raise TransferError("changed since the audit; it will be synced next run")
        self._send(data, key, md5, replaces, on_bytes)

    def put_new(
        self,
        source: Path,
        key: str,
        size: int,
        mtime: float,
        replaces: str | None,
        on_bytes: BytesFn,
        ctime_ns: int = 0,
    ) -> tuple[str, FileStamp]:
        """Upload a small file the audit did not hash (new on both sides), over the object
        with ETag `replaces` if any; return the MD5 of the bytes sent and the stamp they were
        read under.

        The bytes are read once and hashed once: the MD5 goes out as Content-MD5 (S3 rejects
        other bytes) and is what gets recorded. A file that is not what the audit listed, or
        changes while it is read, is refused before anything is sent.
        """
        before = unchanged_since_audit(source, size, mtime, ctime_ns)
        data = read_or_fail(source, source.read_bytes)
        stamp = FileStamp.of(before)
        if len(data) != size or FileStamp.of(os.stat(source)) != stamp:
            raise TransferError(CHANGED_WHILE_SENT)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self._send(data, key, md5, replaces, on_bytes)
        return md5, stamp

    def _send(
        self, data: bytes, key: str, md5: str, replaces: str | None, on_bytes: BytesFn
    ) -> None:
        # S3 checks the Content-MD5, so the bytes stored are ours whatever ETag it gives
        # back (on SSE-KMS/SSE-C objects the ETag is not the MD5; the metadata says it).
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentMD5": _b64(md5),
            "Metadata": md5_metadata(md5),
        }
        # Conditional writes make sure we never overwrite an object someone changed
        # after we listed it (or create one over a new one).
        if self.conditions.enabled:
            if replaces:
                args["IfMatch"] = f'"{replaces}"'
            else:
                args["IfNoneMatch"] = "*"
        if self.throttle.limit is not None:
            # Drawn as the socket takes it: one take of the whole file let a file under the
            # multipart threshold go at full speed, its debt paid by the next transfer.
            args["Body"] = memory_body(
                data, lambda n: self.throttle.take("up", n, self.cancel), self.cancel
            )
        try:
            self.client.put_object(**args)
        except Exception as exc:
            if self.cancel.cancelled or isinstance(exc, CancelledSync | PartCancelled):
                raise CancelledSync() from None
            if is_precondition_failed(exc):
                # A retry of our own PUT whose first reply was lost also gets 412: S3 then
                # holds exactly our bytes, which is success, not a change by someone else.
                if self._holds(key, md5):
                    on_bytes(len(data))
                    return
                raise TransferError(CHANGED_IN_S3) from None
            if is_not_implemented(exc) and self.conditions.enabled:
                self.conditions.refused("conditional writes (If-Match / If-None-Match)")
                self._send(data, key, md5, replaces, on_bytes)
                return
            raise TransferError(describe(exc)) from None
        on_bytes(len(data))

    def _holds(self, key: str, md5: str) -> bool:
        """Whether the object at `key` now has the bytes of MD5 `md5` (by ETag or metadata)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception:
            return False
        if encrypted(head):
            return bool(head.get("Metadata", {}).get("md5") == md5)
        return str(head.get("ETag", "")).strip('"') == md5

    def hash_for_upload(
        self, source: Path, size: int, mtime: float, md5: str | None, ctime_ns: int = 0
    ) -> tuple[PartHashes, FileStamp]:
        """Hash a file for its multipart upload (whole and per part, one read), if it is
        still the file the audit listed, with MD5 `md5` when the audit knew it."""
        before = FileStamp.of(unchanged_since_audit(source, size, mtime, ctime_ns))
        hashes = read_or_fail(source, lambda: hash_parts(source, self.part_size(size), self.cancel))
        if stamp_now(source) != before:
            raise TransferError("changed while it was being hashed; it will be synced next run")
        if md5 is not None and hashes.md5 != md5:
            raise TransferError("changed since the audit; it will be synced next run")
        return hashes, before

    def upload_parts(self, job: FileJob, journal: UploadJournal, on_bytes: BytesFn) -> Sent:
        """Send a hashed file in parts (resuming this root's interrupted upload of the same
        file) and return the object's ETag and the bytes resumed.

        Each part carries its Content-MD5 (S3 refuses one whose bytes changed since
        `hash_for_upload`); the completion is conditional on the object the audit saw, and
        the object's ETag must be the one those part MD5s make (or the file's MD5), unless
        S3 says its ETags are not MD5s (SSE-KMS, SSE-C): then the part checks are the proof.
        """
        return self._parts.upload(job, journal, on_bytes, self._kept)

    # -- deletes ------------------------------------------------------------------------

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete `key`; with `etag`, only while it is still that object (If-Match): an
        object rewritten since the audit is someone's new data, not an orphan."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag and self.conditions.enabled:
            args["IfMatch"] = f'"{etag}"'
        try:
            self.client.delete_object(**args)
        except Exception as exc:
            if is_precondition_failed(exc):
                raise TransferError(f"{CHANGED_IN_S3} (not deleted)") from None
            if is_not_implemented(exc) and "IfMatch" in args:
                self.conditions.refused("conditional deletes (DeleteObject If-Match)")
                self.delete(key)
                return
            raise TransferError(describe(exc)) from None
