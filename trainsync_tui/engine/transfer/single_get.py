"""One GET streamed to a file: a small object whole while it is hashed, or a range of a big
one that a cut download did not get (`Range` + `If-Match`)."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, TransferError
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.error_codes import is_missing_object, is_precondition_failed
from trainsync_tui.engine.scanned import RemoteObject

_READ_SIZE = 1024 * 1024
# A range of a big object is read in smaller chunks: each is written and recorded as it
# arrives, so a kill -9 loses at most this much per range under way (16 at once).
_RANGE_READ_SIZE = 256 * 1024
T = TypeVar("T")


class ObjectChanged(TransferError):
    """The object no longer has the ETag the download was for (412)."""

    def __init__(self) -> None:
        super().__init__("changed in S3 since the audit; sync again")


class RangeIgnored(TransferError):
    """The server sent the whole object for a ranged GET: nothing can be resumed there."""

    def __init__(self) -> None:
        super().__init__("S3 ignored the range asked for; fetched whole instead")


def _retryable() -> tuple[type[BaseException], ...]:
    """What cuts a body off mid-way: s3transfer's own list (its socket errors include every
    OSError, so a local write must not raise one into the loop: see `writing`), and a
    connection closed while the GET was sent, which s3transfer leaves to botocore's
    retries but the request guard's attempts are spent by then."""
    from botocore.exceptions import ConnectionClosedError
    from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

    return (*S3_RETRYABLE_DOWNLOAD_ERRORS, ConnectionClosedError)


def _refusal(exc: Exception) -> TransferError:
    if is_precondition_failed(exc):
        return ObjectChanged()
    if is_missing_object(exc):
        return TransferError("deleted from S3 since the audit")
    return TransferError(describe(exc))


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """A local write's OSError is the path's error at once: s3transfer's retryable list
    takes every OSError for a socket's, and a full disk is no cut body to fetch again."""
    try:
        yield
    except OSError as exc:
        raise TransferError(f"cannot write ({exc.strerror})") from None


def _create(path: Path) -> BinaryIO:
    with writing():
        # An explicit buffer size: the default asks the kernel whether a new file is a
        # terminal (an ioctl per download).
        return open(path, "wb", buffering=io.DEFAULT_BUFFER_SIZE)


def _read_with_retries(attempt: Callable[[], T | None], cancel: CancelToken, attempts: int) -> T:
    """The one retry loop of the body reads: `attempt` (one GET, its body written as it
    comes) again until it returns a result, at most `attempts` times; a body cut off is
    tried again, any other S3 answer is the path's error."""
    retryable = _retryable()
    last: BaseException | None = None
    for _ in range(attempts):
        cancel.raise_if_cancelled()
        try:
            result = attempt()
        except (CancelledSync, TransferError):
            raise
        except retryable as exc:
            last = exc
            continue
        except Exception as exc:
            raise _refusal(exc) from None
        if result is not None:
            return result
    raise TransferError(f"download kept failing ({describe(last) if last else 'unknown'})")


def _copy(
    body: Any,
    sink: Callable[[bytes], None],
    throttle: Callable[[int], None],
    cancel: CancelToken,
    read_size: int = _READ_SIZE,
) -> int:
    """Pour `body` into `sink` chunk by chunk; the bytes poured."""
    poured = 0
    for chunk in body.iter_chunks(read_size):
        throttle(len(chunk))  # --bwlimit: waits here, so the socket is read slower
        with writing():
            sink(chunk)
        poured += len(chunk)
        cancel.raise_if_cancelled()
    return poured


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

    def attempt() -> tuple[str, int]:
        digest = hashlib.md5(usedforsecurity=False)
        response = client.get_object(Bucket=bucket, Key=remote.key, IfMatch=f'"{remote.etag}"')
        # Closed on every way out, so a cut or cancelled body frees its connection now.
        with contextlib.closing(response["Body"]) as body, _create(temp) as handle:

            def sink(chunk: bytes) -> None:
                handle.write(chunk)
                digest.update(chunk)

            written = _copy(body, sink, throttle, cancel)
        return digest.hexdigest(), written

    md5, written = _read_with_retries(attempt, cancel, attempts)
    on_bytes(written)
    return md5


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
    at = start

    def sink(chunk: bytes) -> None:
        nonlocal at
        handle.write(chunk)
        at += len(chunk)
        on_chunk(len(chunk))

    def attempt() -> bool | None:
        with writing():
            handle.seek(at)
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
            _copy(body, sink, throttle, cancel, _RANGE_READ_SIZE)
        return True if at >= end else None

    _read_with_retries(attempt, cancel, attempts)
