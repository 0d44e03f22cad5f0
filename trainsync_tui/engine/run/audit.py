"""Scan the three sources of one actor at once: manifest, local tree and S3 prefix."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.events import EventSink, Message, ScanProgress, Stage
from trainsync_tui.engine.hashing import HashCache
from trainsync_tui.engine.local.manifest import Manifest, load_manifest
from trainsync_tui.engine.local.scan import LocalScan, scan_local
from trainsync_tui.engine.s3.listing import (
    ListProgress,
    RemoteScan,
    resolve_encrypted,
    resolve_multipart,
    scan_remote,
)
from trainsync_tui.engine.scanned import Listings, LocalFile, ManifestEntry, PathIssue


@dataclass
class Audit:
    layout: ActorLayout
    listings: Listings
    duration: float


def _case_clashes(listings: Listings) -> list[PathIssue]:
    """Paths differing only in case: one would overwrite the other on many filesystems."""
    # A set per path cost 180 MB for 600,000 manifest entries: sets only for clashes, and a
    # path already in folded form (most are) is its own key.
    first: dict[str, str] = {}
    groups: dict[str, set[str]] = defaultdict(set)
    for source in (listings.local, listings.remote, listings.manifest):
        for path in source:
            folded = path.casefold()
            seen = first.setdefault(path if folded == path else folded, path)
            if seen != path:
                groups[folded].update((seen, path))
    issues = []
    for paths in groups.values():
        if len(paths) > 1:
            names = ", ".join(sorted(paths))
            for path in sorted(paths):
                issues.append(PathIssue(path, f"names clash when case is ignored ({names})"))
    return issues


def _known_md5s(
    path: str, local: dict[str, LocalFile], manifest: dict[str, ManifestEntry]
) -> set[str]:
    mine, recorded = local.get(path), manifest.get(path)
    return {m for m in (mine.md5 if mine else "", recorded.md5 if recorded else "") if m}


def hash_workers(concurrency: int) -> int:
    """Threads that hash a tree: enough to keep a cold disk or a network file system busy."""
    return max(2, min(8, concurrency))


def _already_listed(listed: RemoteScan, on_list: ListProgress) -> RemoteScan:
    if listed.objects:
        on_list(len(listed.objects))
    # A copy: the audit resolves MD5s and drops blocked objects in place.
    return RemoteScan(dict(listed.objects), list(listed.blocked), list(listed.notes))


def _scan_beside_listing(
    layout: ActorLayout,
    client: Any,
    bucket: str,
    concurrency: int,
    cancel: CancelToken | None,
    on_list: ListProgress,
    manifest: Manifest,
    scan_here: Callable[[CancelToken | None, Callable[[str], bool]], LocalScan],
) -> tuple[LocalScan, RemoteScan]:
    """The local scan and the actor's S3 listing side by side. When one fails (a missing
    bucket, say) the other stops too, instead of hashing the whole tree before the error
    is shown."""
    scans = CancelToken()
    unlink = cancel.on_cancel(scans.cancel) if cancel is not None else lambda: None
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="scan") as pool:
            remote_job = pool.submit(
                scan_remote,
                client,
                bucket,
                layout.prefix,
                workers=concurrency,
                cancel=scans,
                on_progress=on_list,
            )

            def defer(path: str) -> bool:
                """A file new on both sides is hashed by its upload, not twice."""
                if path in manifest.entries:
                    return False
                wait([remote_job])  # only the listing says whether S3 has it
                if remote_job.exception() is not None:
                    return False
                return path not in remote_job.result().objects

            local_job = pool.submit(scan_here, scans, defer)
            wait([local_job, remote_job], return_when=FIRST_EXCEPTION)
            for job in (remote_job, local_job):
                if job.done() and job.exception() is not None:
                    scans.cancel()
                    raise job.exception()  # type: ignore[misc]
            return local_job.result(), remote_job.result()
    finally:
        unlink()


def run_audit(
    layout: ActorLayout,
    client: Any,
    bucket: str,
    cache: HashCache,
    *,
    concurrency: int,
    rehash: bool = False,
    cancel: CancelToken | None = None,
    sink: EventSink,
    defer_new: bool = False,
    listed: RemoteScan | None = None,
) -> Audit:
    """Read all three listings; raises ManifestError for a bad manifest (nothing is synced).

    With `defer_new`, local files that neither S3 nor the manifest knows are listed with an
    empty MD5: a sync's upload hashes them in the read it makes anyway (one read instead of
    two). A dry run or the app's audit does not defer, and sees every MD5.

    `listed`: the actor's S3 objects from a listing made for many actors at once
    (FleetListing), used instead of listing the prefix again.
    """
    started = time.monotonic()
    name = layout.name
    sink(Stage(name, "scan"))
    manifest = load_manifest(layout.manifest_path, layout.actor_id, name)

    def on_hash(files: int, nbytes: int, total: int) -> None:
        sink(ScanProgress(name, "hash", files, total, nbytes))

    def on_list(count: int) -> None:
        sink(ScanProgress(name, "s3", count))

    def scan_here(cancel: CancelToken | None, defer: Callable[[str], bool]) -> LocalScan:
        return scan_local(
            layout.training_dir,
            cache,
            rehash=rehash,
            workers=hash_workers(concurrency),
            cancel=cancel,
            on_progress=on_hash,
            defer=defer if defer_new else None,
        )

    if listed is not None:
        # S3 is listed already: the local scan runs in this thread, not beside a listing
        # (a fleet's 1,000 audits made 2,000 threads for it, and contended for the GIL).
        remote = _already_listed(listed, on_list)
        local = scan_here(
            cancel, lambda path: path not in manifest.entries and path not in remote.objects
        )
    else:
        local, remote = _scan_beside_listing(
            layout, client, bucket, concurrency, cancel, on_list, manifest, scan_here
        )
    resolve_multipart(
        client,
        bucket,
        remote,
        local.files,
        lambda f: str(layout.local(f.disk_path)),
        cache,
        workers=min(8, concurrency),
        cancel=cancel,
    )
    # SSE-KMS / SSE-C objects: an ETag that looks like an MD5 and is not one.
    resolve_encrypted(
        client,
        bucket,
        remote,
        lambda path: _known_md5s(path, local.files, manifest.entries),
        cache,
        workers=min(8, concurrency),
        cancel=cancel,
    )
    listings = Listings(
        local=local.files,
        remote=remote.objects,
        manifest=manifest.entries,
        blocked=local.blocked + remote.blocked,
        notes=local.notes + remote.notes,
        in_the_way=local.in_the_way,
    )
    listings.blocked.extend(_case_clashes(listings))
    for note in listings.notes:
        sink(Message(name, "info", str(note)))
    sink(ScanProgress(name, "done", len(listings.local), len(listings.remote)))
    return Audit(layout, listings, time.monotonic() - started)
