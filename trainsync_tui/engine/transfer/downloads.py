"""Downloads (and server-side copies) of a sync run: one GET, s3transfer's parallel parts,
or a resumed prefix; each checked before it is handed back (Transfers mixes this in)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from pathlib import Path
from typing import Any

from trainsync_tui.engine.hashing import HashingWriter
from trainsync_tui.engine.scanned import RemoteObject
from trainsync_tui.engine.transfer.context import InContext
from trainsync_tui.engine.transfer.parallel_get import OffsetWriter, fetch_ranges
from trainsync_tui.engine.transfer.resumable_get import download_resumable
from trainsync_tui.engine.transfer.single_get import RangeIgnored, get_range, get_to_file
from trainsync_tui.engine.transfer.verify import can_verify, check_download

BytesFn = Callable[[int], None]
DOWNLOAD_ATTEMPTS = 5


class SizeSubscriber:
    """s3transfer subscriber: give it size and ETag up front (no HEAD) and report bytes."""

    def __init__(self, size: int, etag: str | None, on_bytes: BytesFn) -> None:
        self._size = size
        self._etag = etag
        self._on_bytes = on_bytes

    def on_queued(self, future: Any, **_: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        if self._etag:
            future.meta.provide_object_etag(self._etag)

    def on_progress(self, bytes_transferred: int, **_: Any) -> None:
        self._on_bytes(bytes_transferred)

    def on_done(self, **_: Any) -> None:
        pass


class Downloads(InContext):
    """The download half of Transfers; the attributes below are set by Transfers.__init__."""

    threshold: int
    unverified: set[str]
    partial_dir: Path | None
    resumed: dict[str, int]
    chunksize: int
    _manager: Any
    _range_pool: Executor
    _wait: Callable[[Any], Any]
    _kept: Callable[[int], None]

    def download(self, remote: RemoteObject, temp: Path, on_bytes: BytesFn) -> str:
        """Fetch `remote` into `temp` and return its verified MD5; `temp` is removed on failure.

        An object over the multipart threshold goes through resumable_get.py: its ranges in
        parallel, written and recorded as they arrive, so a cut or cancel keeps them and the
        next run fetches only the rest.
        """
        throttle = partial(self.throttle.take, "down", cancel=self.cancel)

        def whole() -> str:
            return get_to_file(
                self.client,
                self.bucket,
                remote,
                temp,
                on_bytes,
                self.cancel,
                DOWNLOAD_ATTEMPTS,
                throttle,
            )

        try:
            if remote.size < self.threshold:
                md5 = whole()
            elif self.partial_dir is not None:
                try:
                    md5, resumed = download_resumable(
                        remote,
                        temp,
                        self.partial_dir,
                        fetch_ranges=partial(self._get_ranges, remote, throttle),
                        verify=lambda path, md5: self._verify(remote, path, md5),
                        on_bytes=on_bytes,
                        on_kept=self._kept,
                        verifiable=lambda: can_verify(self.client, self.bucket, remote),
                    )
                except RangeIgnored:
                    md5 = whole()  # the server sends whole objects for ranged GETs
                else:
                    if resumed:
                        self.resumed[remote.key] = resumed
                    return md5
            else:
                with open(temp, "wb") as handle:
                    writer = HashingWriter(handle)
                    self._get_parts(remote, writer, on_bytes)
                    md5 = writer.hexdigest(remote.size)
            self._verify(remote, temp, md5)
            return md5
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise

    def _get_ranges(
        self,
        remote: RemoteObject,
        throttle: Callable[[int], None],
        fd: int,
        ranges: list[tuple[int, int]],
        wrote: Callable[[int, int], None],
    ) -> None:
        """`ranges` of the object into `fd`, a part per GET on the run's range pool, each
        pinned to the listed ETag (a body cut mid-way continues from its last byte)."""

        def one(writer: OffsetWriter, start: int, end: int, on_chunk: BytesFn) -> None:
            get_range(
                self.client,
                self.bucket,
                remote,
                writer,
                start,
                end,
                on_chunk,
                cancel=self.cancel,
                attempts=DOWNLOAD_ATTEMPTS,
                throttle=throttle,
            )

        fetch_ranges(self._range_pool, fd, ranges, self.chunksize, one, wrote)

    def _get_parts(self, remote: RemoteObject, writer: HashingWriter, on_bytes: BytesFn) -> None:
        """The whole object in parallel ranged GETs (s3transfer), pinned to its ETag."""
        self._wait(
            self._manager.download(
                self.bucket,
                remote.key,
                writer,
                subscribers=[
                    SizeSubscriber(remote.size, remote.etag, on_bytes),
                    self.throttle.subscriber("down", self.cancel),
                ],
            )
        )

    def _verify(self, remote: RemoteObject, temp: Path, md5: str) -> None:
        """A download nothing can check is kept and noted in `unverified` (see verify.py)."""
        if not check_download(self.client, self.bucket, remote, temp, md5, self.cancel):
            self.unverified.add(remote.key)

    def copy(self, remote: RemoteObject, dest_key: str) -> None:
        future = self._manager.copy(
            {"Bucket": self.bucket, "Key": remote.key},
            self.bucket,
            dest_key,
            extra_args={"CopySourceIfMatch": f'"{remote.etag}"'},
            subscribers=[SizeSubscriber(remote.size, None, lambda _: None)],
        )
        self._wait(future)
