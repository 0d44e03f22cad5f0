"""One GET streamed to a file: a small object whole while it is hashed, or a range of a big
one that a cut download did not get (`Range` + `If-Match`)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, TransferError
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.error_codes import is_missing_object, is_precondition_failed
from trainsync_tui.engine.scanned import RemoteObject

_READ_SIZE = 1024 * 1024


class ObjectChanged(TransferError):
    """The object no longer has the ETag the download was for (412)."""

    def __init__(self) -> None:
        super().__init__("changed in S3 since the audit; sync again")


class RangeIgnored(TransferError):
    """The server sent the whole object for a ranged GET: nothing can be resumed there."""

    def __init__(self) -> None:
        super().__init__("S3 ignored the range asked for; fetched whole instead")


def _retryable() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import (
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    return (
        ResponseStreamingError,
        IncompleteReadError,
        ReadTimeoutError,
        ConnectionClosedError,
        ConnectionError,
    )


def _refusal(exc: Exception) -> TransferError:
    if is_precondition_failed(exc):
        return ObjectChanged()
    if is_missing_object(exc):
        return TransferError("deleted from S3 since the audit")
    return TransferError(describe(exc))


def get_to_file(
    client: Any,
    bucket: str,
    remote: RemoteObject,
    temp: Path,
    on_bytes: Callable[[int], None],
    cancel: CancelToken,
    attempts: int,
    throttle: Callable[[int], None] = lambda _: None,
) -> str:
    """One GET streamed to disk while hashing; a body cut mid-way is fetched again."""
    retryable = _retryable()
    last: Exception | None = None
    for _ in range(attempts):
        cancel.raise_if_cancelled()
        digest = hashlib.md5(usedforsecurity=False)
        written = 0
        try:
            response = client.get_object(Bucket=bucket, Key=remote.key, IfMatch=f'"{remote.etag}"')
            # Closed on every way out, so a cut or cancelled body frees its connection now.
            with contextlib.closing(response["Body"]) as body, open(temp, "wb") as handle:
                for chunk in body.iter_chunks(_READ_SIZE):
                    throttle(len(chunk))  # --bwlimit: waits here, so the socket is read slower
                    handle.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    cancel.raise_if_cancelled()
        except retryable as exc:
            last = exc
            continue
        except CancelledSync:
            raise
        except OSError as exc:
            raise TransferError(f"cannot write ({exc.strerror})") from None
        except Exception as exc:
            raise _refusal(exc) from None
        on_bytes(written)
        return digest.hexdigest()
    raise TransferError(f"download kept failing ({describe(last) if last else 'unknown'})")


def get_range(
    client: Any,
    bucket: str,
    remote: RemoteObject,
    handle: BinaryIO,
    start: int,
    end: int,
    on_chunk: Callable[[int], None],
    *,
    cancel: CancelToken,
    attempts: int,
    throttle: Callable[[int], None] = lambda _: None,
) -> None:
    """Write bytes [start, end) of the object at their offsets in `handle`.

    Each GET is pinned to the listed ETag and asks for what is still missing: a cut body is
    continued from its last byte, a changed object raises ObjectChanged. `on_chunk` hears
    every chunk written, in order from `start`.
    """
    retryable = _retryable()
    last: Exception | None = None
    at = start
    for _ in range(attempts):
        cancel.raise_if_cancelled()
        handle.seek(at)
        try:
            response = client.get_object(
                Bucket=bucket,
                Key=remote.key,
                IfMatch=f'"{remote.etag}"',
                Range=f"bytes={at}-{end - 1}",
            )
            if not response.get("ContentRange"):
                response["Body"].close()
                raise RangeIgnored()
            with contextlib.closing(response["Body"]) as body:
                for chunk in body.iter_chunks(_READ_SIZE):
                    throttle(len(chunk))
                    handle.write(chunk)
                    at += len(chunk)
                    on_chunk(len(chunk))
                    cancel.raise_if_cancelled()
        except retryable as exc:
            last = exc
            continue
        except (CancelledSync, TransferError):
            raise
        except OSError as exc:
            raise TransferError(f"cannot write ({exc.strerror})") from None
        except Exception as exc:
            raise _refusal(exc) from None
        if at >= end:
            return
    raise TransferError(f"download kept failing ({describe(last) if last else 'unknown'})")
