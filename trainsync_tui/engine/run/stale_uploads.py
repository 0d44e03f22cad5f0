"""Housekeeping of unfinished multipart uploads: what will never be resumed is aborted.

Ours (journalled by upload ID in this root) are kept while they can still be resumed: the
file unchanged and the upload younger than `stale_upload_days`. Another writer's are
aborted only after that much longer age and only when no part of them was written within
it, so a second server's running upload is never cut. An upload that holds no part has no
date of its own to trust (moto says every upload began in 2010, and any server's clock may
be off): it is aborted only once this root has seen it, unfinished, for that long (the
sightings file beside the journal). A server that cannot list uploads skips the clean-up
with a note: it is housekeeping, never a reason to stop a sync.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import CancelledSync
from trainsync_tui.engine.events import EventSink, Message
from trainsync_tui.engine.hashing import FileStamp
from trainsync_tui.engine.run.report import size_text
from trainsync_tui.engine.s3.client import epoch
from trainsync_tui.engine.s3.conditions import detail_log, first_warning, server_of
from trainsync_tui.engine.s3.error_codes import is_missing_upload, is_unsupported_operation
from trainsync_tui.engine.transfer.upload_journal import JournalEntry, UploadJournal

DAY = 86400.0
# What a server without ListMultipartUploads answers (s3rver, some gateways).


@dataclass
class CleanResult:
    aborted: list[str] = field(default_factory=list)  # keys
    freed: int = 0  # bytes of the parts aborted
    kept: int = 0  # our uploads kept for resume
    note: str = ""  # why nothing could be listed, if so


def list_upload_parts(client: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=key, UploadId=upload_id
    ):
        found.extend(page.get("Parts", []))
    return found


def upload_bytes(client: Any, bucket: str, key: str, upload_id: str) -> int:
    """The bytes the parts of one multipart upload hold in S3 (ListParts)."""
    return sum(int(p.get("Size", 0)) for p in list_upload_parts(client, bucket, key, upload_id))


class Sightings:
    """When this root first saw each unfinished upload of another writer (epoch seconds, by
    this machine's clock), kept in a small JSON file beside the upload journal."""

    def __init__(self, path: Path | None, now: float) -> None:
        self.path = path
        self.now = now
        self._seen: dict[str, float] = {}
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._seen = {
                        str(k): float(v) for k, v in loaded.items() if isinstance(v, int | float)
                    }
        self._listed: set[str] = set()

    def first_seen(self, upload_id: str) -> float:
        """When `upload_id` was first seen; now, for one never seen before."""
        self._listed.add(upload_id)
        return self._seen.setdefault(upload_id, self.now)

    def save(self) -> None:
        """Keep the uploads seen in this listing only (the others finished or were aborted)."""
        if self.path is None:
            return
        kept = {k: v for k, v in self._seen.items() if k in self._listed}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_name(self.path.name + ".tmp")
            temp.write_text(json.dumps(kept), encoding="utf-8")
            os.replace(temp, self.path)


def stale_multipart_uploads(
    client: Any,
    bucket: str,
    prefix: str,
    ours: Iterable[str],
    older_than: float,
    sightings: Sightings,
) -> list[tuple[str, str]]:
    """(key, upload id) of other writers' uploads under `prefix` started before `older_than`
    and with no part written since then (with no part at all: first seen before it); upload
    IDs in `ours` are never listed."""
    mine = set(ours)
    stale: list[tuple[str, str]] = []
    paginator = client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            key, upload_id = upload["Key"], upload["UploadId"]
            if upload_id in mine:
                continue
            first_seen = sightings.first_seen(upload_id)
            if epoch(upload["Initiated"]) >= older_than:
                continue
            # Some servers (moto) report every upload as started in 2010: the parts' own
            # times say whether a writer is still at it.
            try:
                parts = list_upload_parts(client, bucket, key, upload_id)
            except Exception as exc:
                if is_missing_upload(exc):
                    continue  # finished or aborted meanwhile
                raise
            if not parts and first_seen >= older_than:
                continue  # nothing dates it but our own sighting, which is too recent
            if all(epoch(p.get("LastModified")) < older_than for p in parts):
                stale.append((key, upload_id))
    return stale


def _unjournalled_empty(client: Any, bucket: str, key: str, journalled: set[str]) -> list[str]:
    """The upload IDs of `key` that are not in `journalled` and hold no part."""
    found = []
    paginator = client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=bucket, Prefix=key):
        for upload in page.get("Uploads", []):
            if upload["Key"] != key or upload["UploadId"] in journalled:
                continue
            try:
                parts = list_upload_parts(client, bucket, key, upload["UploadId"])
            except Exception as exc:
                if is_missing_upload(exc):
                    continue
                raise
            if not parts:
                found.append(upload["UploadId"])
    return found


def _resumable(layout: ActorLayout, entry: JournalEntry, now: float, max_age: float) -> bool:
    if now - entry.started >= max_age:
        return False
    try:
        stamp = FileStamp.of(os.stat(layout.local(entry.path)))
    except OSError:
        return False
    return entry.fits(stamp, entry.part_size)


def _abort(client: Any, bucket: str, key: str, upload_id: str) -> int | None:
    """Abort one upload; the bytes its parts held, or None if it was gone already."""
    try:
        freed = upload_bytes(client, bucket, key, upload_id)
    except CancelledSync:
        raise  # the rest is the next run's clean-up
    except Exception as exc:
        if is_missing_upload(exc):
            return None
        freed = 0
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception as exc:
        if is_missing_upload(exc):
            return None
        raise
    return freed


def clean_up_uploads(
    client: Any, settings: Settings, layout: ActorLayout, *, now: float, sink: EventSink
) -> CleanResult:
    """Abort the actor's multipart uploads that will never be resumed, telling `sink` about
    each; a server without ListMultipartUploads gets one warning. Raises what S3 raises."""

    def aborted(key: str, freed: int) -> None:
        text = f"aborted an unfinished upload of {key} ({size_text(freed)} freed)"
        sink(Message(layout.name, "info", text))

    result = abort_unresumable(
        client,
        settings.require_bucket(),
        layout,
        now=now,
        stale_days=settings.stale_upload_days,
        on_abort=aborted,
    )
    server = server_of(settings.endpoint_url, settings.require_bucket())
    if result.note and first_warning(server, "upload listing"):  # once, not once per actor
        detail_log.debug("S3 at %s: %s", server[0], result.note)
        text = f"S3 at {server[0]} does not list unfinished multipart uploads: clean-up skipped"
        sink(Message(layout.name, "warning", text))
    return result


def abort_unresumable(
    client: Any,
    bucket: str,
    layout: ActorLayout,
    *,
    now: float,
    stale_days: float,
    on_abort: Callable[[str, int], None] | None = None,
) -> CleanResult:
    """Abort the actor's multipart uploads that will never be resumed; see the module doc.

    Raises what S3 raises, except for a server without ListMultipartUploads (a note).
    """
    result = CleanResult()

    def abort(key: str, upload_id: str) -> None:
        freed = _abort(client, bucket, key, upload_id)
        if freed is not None:  # None: gone already, nothing freed
            result.aborted.append(key)
            result.freed += freed
            if on_abort is not None:
                on_abort(key, freed)

    journal = UploadJournal(layout.multipart_journal)
    max_age = stale_days * DAY

    keep: set[str] = set()
    for entry in journal.entries():
        if _resumable(layout, entry, now, max_age):
            keep.add(entry.upload_id)
            continue
        abort(entry.key, entry.upload_id)
    journal.keep_only(keep)
    result.kept = len(keep)
    for key in journal.left_creating():
        # A run of this root died between a create and its journal line: the upload of
        # `key` that no journal names and that holds no part is that run's (under the
        # actor's lease no other trainsync starts one; another writer's has parts).
        try:
            left = _unjournalled_empty(client, bucket, key, keep)
        except Exception as exc:
            if not is_unsupported_operation(exc):
                raise
            left = []  # said below, where the stale listing meets the same refusal
        for upload_id in left:
            abort(key, upload_id)
    journal.forget_creating()
    sightings = Sightings(layout.multipart_journal.with_name("uploads-seen"), now)
    try:
        stale = stale_multipart_uploads(
            client,
            bucket,
            layout.prefix,
            {e.upload_id for e in journal.entries()},
            now - max_age,
            sightings,
        )
        sightings.save()
    except Exception as exc:
        if is_unsupported_operation(exc):
            result.note = (
                "the S3 server does not list unfinished multipart uploads; their clean-up "
                "is skipped (abort them with the server's own tools)"
            )
            return result
        raise
    for key, upload_id in stale:
        abort(key, upload_id)
    return result
