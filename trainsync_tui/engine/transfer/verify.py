"""Is a downloaded file the object's bytes: its MD5, else its multipart ETag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import TransferError
from trainsync_tui.engine.hashing import etags_by_part_size
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.partsize import object_part_sizes
from trainsync_tui.engine.scanned import RemoteObject


def check_download(
    client: Any, bucket: str, remote: RemoteObject, path: Path, md5: str, cancel: CancelToken
) -> bool:
    """True when the file is verified; False when nothing can check it (S3 gives no MD5 and
    hides the part size that would): kept, never thrown away. Raises TransferError when the
    file is known to differ."""
    size = path.stat().st_size
    if size != remote.size:
        raise TransferError(f"downloaded {size} bytes, S3 lists {remote.size}")
    if remote.md5 is not None:
        if md5 != remote.md5:
            raise TransferError("downloaded data does not match its MD5; not kept")
        return True
    # No MD5 anywhere: check the multipart ETag with the object's own part size.
    try:
        sizes = object_part_sizes(client, bucket, remote.key, remote.size, remote.etag)
    except Exception as exc:
        raise TransferError(f"cannot check the download ({describe(exc)})") from None
    etags = etags_by_part_size(path, sizes.sizes, cancel)[1] if sizes.sizes else {}
    if remote.etag in etags.values():
        return True
    if sizes.known:
        raise TransferError("downloaded data does not match its ETag; not kept")
    return False


def can_verify(client: Any, bucket: str, remote: RemoteObject) -> bool:
    """Whether `check_download` would catch a bad byte in a download of `remote`: S3 gives
    its MD5, or the part size its multipart ETag was made with. Without either, a download
    that matches no candidate part size is kept as "unverified", so bytes kept from an
    earlier run must not be trusted (a resume starts again from byte 0)."""
    if remote.md5 is not None:
        return True
    try:
        return object_part_sizes(client, bucket, remote.key, remote.size, remote.etag).known
    except Exception:
        return False
