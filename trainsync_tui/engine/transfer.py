"""Verified single-object transfers: MD5-checked uploads and downloads that land atomically."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainsync_tui.engine.bandwidth import Throttle
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.downloads import DOWNLOAD_ATTEMPTS, Downloads
from trainsync_tui.engine.downloads import SizeSubscriber as _Size
from trainsync_tui.engine.errors import CancelledSync
from trainsync_tui.engine.hashing import (
    FileStamp,
    PartHashes,
    hash_parts,
)
from trainsync_tui.engine.localcheck import (
    TransferError,
    read_or_fail,
    stamp_now,
    unchanged_since_audit,
)
from trainsync_tui.engine.s3client import describe, error_code

BytesFn = Callable[[int], None]
_CHANGED_WHILE_SENT = "changed while it was being uploaded; it will be synced next run"


def _b64(md5_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(md5_hex)).decode()


class Transfers(Downloads):
    """Uploads and downloads for one sync run, sharing a client and a TransferManager."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        threshold: int,
        chunksize: int,
        concurrency: int,
        cancel: CancelToken,
        throttle: Throttle | None = None,
        partial_dir: Path | None = None,
    ) -> None:
        from s3transfer.manager import TransferConfig, TransferManager

        from trainsync_tui.engine.chunks import StrictOSUtils

        self.client = client
        self.bucket = bucket
        self.threshold = threshold
        self.chunksize = chunksize
        self.cancel = cancel
        self.conditional_puts = True
        # --bwlimit: every byte up or down is drawn from it (the engine's, shared by its syncs).
        self.throttle = throttle or Throttle()
        # Keys downloaded whose bytes nothing could check (see _verify).
        self.unverified: set[str] = set()
        # Where big downloads keep their prefix for resume (resume.py), and what they resumed.
        self.partial_dir = partial_dir
        self.resumed: dict[str, int] = {}
        # Built on s3transfer directly, never the CRT client boto3 may pick on GPU hosts,
        # so production runs the code path the tests run.
        self._manager = TransferManager(
            client,
            TransferConfig(
                multipart_threshold=threshold,
                multipart_chunksize=chunksize,
                max_request_concurrency=concurrency,
                num_download_attempts=DOWNLOAD_ATTEMPTS,
            ),
            osutil=StrictOSUtils(),
        )
        # Part MD5s of the multipart uploads under way, by key: s3transfer cannot pass a
        # Content-MD5 per part, so a botocore hook adds it to each UploadPart it sends.
        self._part_hashes: dict[str, PartHashes] = {}
        self._hook_id = f"trainsync-part-md5-{id(self)}"
        client.meta.events.register(
            "before-parameter-build.s3.UploadPart", self._add_part_md5, unique_id=self._hook_id
        )

    def close(self) -> None:
        try:
            self._manager.shutdown()
        finally:
            # The hook holds this object; the app and the API keep their client for long.
            self.client.meta.events.unregister(
                "before-parameter-build.s3.UploadPart", unique_id=self._hook_id
            )

    def _add_part_md5(self, params: dict[str, Any], **_: Any) -> None:
        hashes = self._part_hashes.get(params.get("Key", ""))
        if hashes is not None and params.get("Bucket") == self.bucket:
            digest = hashes.content_md5(int(params.get("PartNumber", 0)))
            if digest is not None:
                params["ContentMD5"] = digest

    def _wait(self, future: Any) -> Any:
        """Wait for an s3transfer future; a cancel cancels it (shutdown(cancel=True) is broken)."""
        unregister = self.cancel.on_cancel(lambda: future.cancel())
        try:
            return future.result()
        except CancelledSync:
            raise
        except Exception as exc:
            from trainsync_tui.engine.chunks import FileShrank

            if self.cancel.cancelled:
                raise CancelledSync() from None
            if isinstance(exc, FileShrank):
                raise TransferError(_CHANGED_WHILE_SENT) from None
            # Same words as the single-request paths, not s3transfer's own.
            if "did not match expected ETag" in str(exc) or error_code(exc) in (
                "PreconditionFailed",
                "412",
            ):
                raise TransferError("changed in S3 since the audit; sync again") from None
            if error_code(exc) == "BadDigest":
                raise TransferError(_CHANGED_WHILE_SENT) from None
            if isinstance(exc, OSError) and exc.strerror:
                raise TransferError(f"cannot write ({exc.strerror})") from None
            raise TransferError(describe(exc)) from None
        finally:
            unregister()

    # -- uploads -------------------------------------------------------------------------

    def part_size(self, size: int) -> int:
        """The part size s3transfer will use for a file of `size` bytes."""
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
    ) -> tuple[str, FileStamp]:
        """Upload a small file the audit did not hash (new on both sides), over the object
        with ETag `replaces` if any; return the MD5 of the bytes sent and the stamp they were
        read under.

        The bytes are read once and hashed once: the MD5 goes out as Content-MD5 (S3 rejects
        other bytes) and is what gets recorded. A file that is not what the audit listed, or
        changes while it is read, is refused before anything is sent.
        """
        before = unchanged_since_audit(source, size, mtime)
        data = read_or_fail(source, source.read_bytes)
        stamp = FileStamp.of(before)
        if len(data) != size or FileStamp.of(os.stat(source)) != stamp:
            raise TransferError(_CHANGED_WHILE_SENT)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self._send(data, key, md5, replaces, on_bytes)
        return md5, stamp

    def _send(
        self, data: bytes, key: str, md5: str, replaces: str | None, on_bytes: BytesFn
    ) -> None:
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentMD5": _b64(md5),
            "Metadata": {"md5": md5},
        }
        # Conditional writes make sure we never overwrite an object someone changed
        # after we listed it (or create one over a new one).
        if self.conditional_puts:
            if replaces:
                args["IfMatch"] = f'"{replaces}"'
            else:
                args["IfNoneMatch"] = "*"
        self.throttle.take("up", len(data), self.cancel)
        try:
            self.client.put_object(**args)
        except Exception as exc:
            code = error_code(exc)
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                # A retry of our own PUT whose first reply was lost also gets 412: S3 then
                # holds exactly our bytes, which is success, not a change by someone else.
                if self._holds(key, md5):
                    on_bytes(len(data))
                    return
                raise TransferError("changed in S3 since the audit; sync again") from None
            if code == "NotImplemented" and self.conditional_puts:
                self.conditional_puts = False
                self._send(data, key, md5, replaces, on_bytes)
                return
            raise TransferError(describe(exc)) from None
        on_bytes(len(data))

    def _holds(self, key: str, md5: str) -> bool:
        """Whether the object at `key` now has the single-part ETag `md5`."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception:
            return False
        return str(head.get("ETag", "")).strip('"') == md5

    def _check_unchanged(self, key: str, replaces: str | None) -> None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            current = str(head.get("ETag", "")).strip('"')
        except Exception as exc:
            if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise TransferError(describe(exc)) from None
            current = None
        if current != replaces:
            raise TransferError("changed in S3 since the audit; sync again")

    def hash_for_upload(
        self, source: Path, size: int, mtime: float, md5: str | None
    ) -> tuple[PartHashes, FileStamp]:
        """Hash a file for its multipart upload (whole and per part, one read), if it is
        still the file the audit listed, with MD5 `md5` when the audit knew it."""
        before = FileStamp.of(unchanged_since_audit(source, size, mtime))
        hashes = read_or_fail(source, lambda: hash_parts(source, self.part_size(size), self.cancel))
        if stamp_now(source) != before:
            raise TransferError("changed while it was being hashed; it will be synced next run")
        if md5 is not None and hashes.md5 != md5:
            raise TransferError("changed since the audit; it will be synced next run")
        return hashes, before

    def upload_parts(
        self,
        source: Path,
        key: str,
        hashes: PartHashes,
        stamp: FileStamp,
        replaces: str | None,
        on_bytes: BytesFn,
    ) -> str:
        """Send a hashed file in parts and return the object's ETag.

        Each part carries its Content-MD5 (S3 refuses one whose bytes changed since
        `hash_for_upload`), and the object's ETag must be the one those part MD5s make:
        then S3 holds exactly the bytes whose MD5 is `hashes.md5`, with no second read.
        s3transfer reads the parts from the file by name, in its worker threads.
        """
        # s3transfer cannot make a multipart upload conditional; check just before instead.
        self._check_unchanged(key, replaces)
        self._part_hashes[key] = hashes
        try:
            future = self._manager.upload(
                str(source),
                self.bucket,
                key,
                extra_args={"Metadata": {"md5": hashes.md5}},
                subscribers=[
                    _Size(stamp.size, None, on_bytes),
                    self.throttle.subscriber("up", self.cancel),
                ],
            )
            self._wait(future)
        except TransferError:
            # Whatever failed, a file that changed under the upload is the cause to report.
            if stamp_now(source) != stamp:
                raise TransferError(_CHANGED_WHILE_SENT) from None
            raise
        finally:
            self._part_hashes.pop(key, None)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            etag = str(head.get("ETag", "")).strip('"')
        except Exception as exc:
            raise TransferError(f"uploaded but cannot be checked ({describe(exc)})") from None
        problem = None
        if stamp_now(source) != stamp:
            # S3 holds the bytes hashed, but the file is no longer them: record nothing.
            problem = _CHANGED_WHILE_SENT
        elif etag != hashes.etag():
            problem = (
                f"S3 holds different bytes than were sent (ETag {etag}, expected {hashes.etag()})"
            )
        if problem:
            # Never leave an object that the manifest does not describe looking valid.
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=key)
            raise TransferError(problem)
        return etag

    # -- deletes ------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise TransferError(describe(exc)) from None
