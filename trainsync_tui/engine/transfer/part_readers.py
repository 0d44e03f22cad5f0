"""Part readers for uploads that fail at once when the file under them shrinks or a cancel
comes."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

from s3transfer.utils import OSUtils, ReadFileChunk

from trainsync_tui.engine.cancel import CancelToken


class FileShrank(CancelledError):
    """A part ran out of bytes before its announced length: the file shrank under the upload.

    A CancelledError because botocore lets only that through unretried: anything else raised
    while a body is sent is retried with back-off, and every retry would fail the same way
    (or, unchecked, send fewer bytes than its Content-Length and wait for a timeout).
    """


class PartCancelled(CancelledError):
    """The sync was cancelled while a part was being sent: stop its request now, unretried."""


class _StrictChunk(ReadFileChunk):  # type: ignore[misc]
    cancel: CancelToken | None = None

    def read(self, amount: int | None = None) -> bytes:
        if self.cancel is not None and self.cancel.cancelled:
            raise PartCancelled("cancelled")
        left = max(len(self) - self.tell(), 0)
        wanted = left if amount is None or amount < 0 else min(amount, left)
        data: bytes = super().read(amount)
        if len(data) < wanted:
            raise FileShrank("the file is shorter than when it was hashed")
        return data


def open_part(
    path: str, start: int, size: int, on_bytes: Callable[[int], None], cancel: CancelToken
) -> ReadFileChunk:
    """A request body for bytes [start, start + size) of `path`, read as it is sent.

    Progress goes to `on_bytes` (rolled back when botocore retries the request: s3transfer's
    TransferManager registers the handlers that switch it off and on); a cancel or a file
    that got shorter ends the request at once.
    """
    handle = open(path, "rb")  # noqa: SIM115 - closed with the chunk
    try:
        handle.seek(start)
        chunk = _StrictChunk(
            handle,
            size,
            start + size,
            # s3transfer calls its callbacks with a keyword argument
            callbacks=[lambda bytes_transferred: on_bytes(bytes_transferred)],
            enable_callbacks=False,
        )
    except BaseException:
        handle.close()
        raise
    chunk.cancel = cancel
    return chunk


def memory_body(data: bytes, on_send: Callable[[int], None], cancel: CancelToken) -> ReadFileChunk:
    """A request body over bytes already in memory (a single PUT) whose reads while it is
    sent go to `on_send`; reads for signing or a retry's rewind are not sent, and not
    counted (the same handlers on the client switch it as for a part)."""
    chunk = _StrictChunk(
        io.BytesIO(data),
        len(data),
        len(data),
        callbacks=[lambda bytes_transferred: on_send(bytes_transferred)],
        enable_callbacks=False,
    )
    chunk.cancel = cancel
    return chunk


class StrictOSUtils(OSUtils):  # type: ignore[misc]
    """What s3transfer uses to open the parts of an upload by file name, made strict."""

    def open_file_chunk_reader_from_fileobj(
        self,
        fileobj: Any,
        chunk_size: int,
        full_file_size: int,
        callbacks: Any,
        close_callbacks: Any = None,
    ) -> ReadFileChunk:
        return _StrictChunk(
            fileobj,
            chunk_size,
            full_file_size,
            callbacks=callbacks,
            enable_callbacks=False,
            close_callbacks=close_callbacks,
        )
