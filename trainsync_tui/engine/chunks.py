"""Part readers for s3transfer that fail at once when the file under them shrinks."""

from __future__ import annotations

from concurrent.futures import CancelledError
from typing import Any

from s3transfer.utils import OSUtils, ReadFileChunk


class FileShrank(CancelledError):
    """A part ran out of bytes before its announced length: the file shrank under the upload.

    A CancelledError because botocore lets only that through unretried: anything else raised
    while a body is sent is retried with back-off, and every retry would fail the same way
    (or, unchecked, send fewer bytes than its Content-Length and wait for a timeout).
    """


class _StrictChunk(ReadFileChunk):  # type: ignore[misc]
    def read(self, amount: int | None = None) -> bytes:
        left = max(len(self) - self.tell(), 0)
        wanted = left if amount is None or amount < 0 else min(amount, left)
        data: bytes = super().read(amount)
        if len(data) < wanted:
            raise FileShrank("the file is shorter than when it was hashed")
        return data


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
