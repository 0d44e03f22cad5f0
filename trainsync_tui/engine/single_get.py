"""An object under the multipart threshold: one GET streamed to a file while it is hashed."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync
from trainsync_tui.engine.listing import RemoteObject
from trainsync_tui.engine.localcheck import TransferError
from trainsync_tui.engine.s3client import describe, error_code

_READ_SIZE = 1024 * 1024


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
    from botocore.exceptions import (
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    retryable = (
        ResponseStreamingError,
        IncompleteReadError,
        ReadTimeoutError,
        ConnectionClosedError,
        ConnectionError,
    )
    last: Exception | None = None
    for _ in range(attempts):
        cancel.raise_if_cancelled()
        digest = hashlib.md5(usedforsecurity=False)
        written = 0
        try:
            response = client.get_object(
                Bucket=bucket, Key=remote.key, IfMatch=f'"{remote.etag}"'
            )
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
            code = error_code(exc)
            if code in ("PreconditionFailed", "412"):
                raise TransferError("changed in S3 since the audit; sync again") from None
            if code in ("NoSuchKey", "404"):
                raise TransferError("deleted from S3 since the audit") from None
            raise TransferError(describe(exc)) from None
        on_bytes(written)
        return digest.hexdigest()
    raise TransferError(f"download kept failing ({describe(last) if last else 'unknown'})")
