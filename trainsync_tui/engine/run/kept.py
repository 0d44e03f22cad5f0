"""What an interrupted run left for the next one to resume: partial downloads and multipart
uploads, counted from what the transfer layer already records (the partial folder's sidecars,
the upload journal), so a cancelled run and `audit` can say how much is kept and where."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.run.report import KeptForResume, KeptTransfer
from trainsync_tui.engine.run.stale_uploads import upload_bytes
from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.error_codes import is_missing_upload
from trainsync_tui.engine.transfer.upload_journal import UploadJournal


def _held(meta: Mapping[str, Any], on_disk: int) -> int:
    """Bytes of the object the sidecar's ranges hold (overlaps counted once)."""
    total, reach = 0, 0
    for start, end in sorted((int(a), min(int(b), on_disk)) for a, b in meta["ranges"]):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def _path_of(layout: ActorLayout, key: str) -> str:
    return key[len(layout.prefix) :] if key.startswith(layout.prefix) else key


def kept_downloads(layout: ActorLayout) -> list[KeptTransfer]:
    """The partial downloads in the actor's staging folder (transfer/resumable_get.py)."""
    found = []
    folder = layout.staging_dir / "partial"
    for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            held = _held(meta, sidecar.with_suffix(".part").stat().st_size)
            path = _path_of(layout, str(meta["key"]))
            found.append(KeptTransfer(path, int(meta["size"]), held))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a sidecar the next download discards: nothing it would resume
    return [t for t in found if t.kept]


def kept_for_resume(
    layout: ActorLayout, upload_bytes: Callable[[str, str], int | None]
) -> KeptForResume:
    """Everything kept for the actor's next run; `upload_bytes(key, upload_id)` says how
    much of a journalled upload S3 holds (None: the upload is gone, so nothing is kept)."""
    uploads = []
    for entry in UploadJournal(layout.multipart_journal).entries():
        sent = upload_bytes(entry.key, entry.upload_id)
        if sent is not None:
            uploads.append(KeptTransfer(entry.path, entry.size, sent))
    return KeptForResume(kept_downloads(layout), uploads)


def parts_in_s3(client: Any, bucket: str) -> Callable[[str, str], int | None]:
    """`upload_bytes` for kept_for_resume that asks S3 (ListParts) how much an upload holds."""

    def held(key: str, upload_id: str) -> int | None:
        try:
            return upload_bytes(client, bucket, key, upload_id)
        except Exception as exc:
            if is_missing_upload(exc):
                return None  # completed or aborted meanwhile: nothing kept
            raise TrainsyncError(f"{key}: cannot list its kept parts ({describe(exc)})") from None

    return held


def pending_resumes(layout: ActorLayout, client: Any, bucket: str) -> KeptForResume:
    """What `audit` shows: the partial downloads on disk and this root's multipart uploads
    with the parts S3 holds of each."""
    try:
        return kept_for_resume(layout, parts_in_s3(client, bucket))
    except OSError as exc:  # the work folder cannot be read
        message = f"{layout.name}: cannot read what is kept for resume ({exc.strerror or exc})"
        raise TrainsyncError(message) from None
