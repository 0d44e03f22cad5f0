"""List an actor's S3 prefix (paged, one listing per folder in parallel) and learn MD5s."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.hashing import HashCache, etags_by_part_size
from trainsync_tui.engine.paths import is_temp_name, normalise, relative_path_problem
from trainsync_tui.engine.s3.client import describe, epoch
from trainsync_tui.engine.s3.partsize import object_part_sizes
from trainsync_tui.engine.scanned import LocalFile, PathIssue, RemoteObject

_HEX_MD5 = re.compile(r"^[0-9a-f]{32}$")
ListProgress = Callable[[int], None]
_KEPT_UNVERIFIED = (
    "unverified: kept as downloaded; S3 gives no MD5 and no part size matches its multipart ETag"
)
_T = TypeVar("_T")


@dataclass
class RemoteScan:
    objects: dict[str, RemoteObject] = field(default_factory=dict)
    blocked: list[PathIssue] = field(default_factory=list)
    notes: list[PathIssue] = field(default_factory=list)


# Servers whose delimiter listings leave folders out (s3rver 3.7 drops a folder that holds
# only folders from CommonPrefixes), per process: their listings go flat from then on.
_FLAT_ONLY: set[tuple[str, str]] = set()
_FLAT_LOCK = threading.Lock()


def lists_flat_only(client: Any, bucket: str) -> bool:
    """True once this server was seen to leave folders out of a delimiter listing."""
    with _FLAT_LOCK:
        return _server(client, bucket) in _FLAT_ONLY


def mark_flat_only(client: Any, bucket: str) -> None:
    with _FLAT_LOCK:
        _FLAT_ONLY.add(_server(client, bucket))


def _server(client: Any, bucket: str) -> tuple[str, str]:
    return (str(getattr(client.meta, "endpoint_url", "")), bucket)


INCOMPLETE_FOLDERS = (
    "a folder-by-folder listing left out objects that one flat listing shows (a server bug, "
    "or objects written meanwhile); listed in one flat walk instead (slower, complete)"
)


def _walk_prefix(
    client: Any,
    bucket: str,
    prefix: str,
    workers: int,
    cancel: CancelToken | None,
    on_progress: ListProgress | None,
    convert: Callable[[dict[str, Any]], _T],
    on_flat: Callable[[str], None] | None = None,
) -> list[_T]:
    """Every object under `prefix`, converted page by page: each folder on its own thread.

    One listing per folder beats one long walk because S3 answers folders in parallel;
    a flat folder of any size is still paged 1,000 keys at a time. Pages are converted as
    they arrive so botocore's dicts (100,000 of them for a big actor) are never all held.

    A server that leaves folders out of its delimiter listings would make a pull silently
    incomplete: one flat page, fetched beside the walk, must be covered by the walk, else
    the prefix is listed flat (and so is every later prefix of that server), and `on_flat`
    is told once.
    """
    if lists_flat_only(client, bucket):
        return _flat_walk(client, bucket, prefix, cancel, on_progress, convert)
    found: list[_T] = []
    walked: set[str] = set()
    lock = threading.Lock()
    pending: set[Future[None]] = set()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="list")

    def probe() -> list[str]:
        page = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for item in page.get("Contents", ())]

    def list_folder(folder: str) -> None:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=folder, Delimiter="/"):
            if cancel is not None and cancel.cancelled:
                return
            items = page.get("Contents", ())
            converted = [convert(item) for item in items]
            with lock:
                walked.update(item["Key"] for item in items)
                found.extend(converted)
                for sub in page.get("CommonPrefixes", ()):
                    pending.add(pool.submit(list_folder, sub["Prefix"]))
                total = len(found)
            if on_progress is not None and converted:
                on_progress(total)

    try:
        flat_page = pool.submit(probe)
        with lock:
            pending.add(pool.submit(list_folder, prefix))
        while True:
            with lock:
                current = set(pending)
            if not current:
                break
            done, _ = wait(current, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()
            with lock:
                pending.difference_update(done)
        missed = not walked.issuperset(flat_page.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if cancel is not None:
        cancel.raise_if_cancelled()
    if not missed:
        return found
    mark_flat_only(client, bucket)
    if on_flat is not None:
        on_flat(INCOMPLETE_FOLDERS)
    return _flat_walk(client, bucket, prefix, cancel, on_progress, convert)


def _flat_walk(
    client: Any,
    bucket: str,
    prefix: str,
    cancel: CancelToken | None,
    on_progress: ListProgress | None,
    convert: Callable[[dict[str, Any]], _T],
) -> list[_T]:
    """Every object under `prefix` in one paged walk, no delimiter."""
    found: list[_T] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        if cancel is not None:
            cancel.raise_if_cancelled()
        found.extend(convert(item) for item in page.get("Contents", ()))
        if on_progress is not None:
            on_progress(len(found))
    return found


def to_object(item: dict[str, Any], prefix: str) -> RemoteObject | PathIssue | None:
    """One listed object as we keep it; a refused key is an issue; markers and temps None."""
    key: str = item["Key"]
    rel = key[len(prefix) :]
    if (rel == "" or rel.endswith("/")) and item.get("Size", 0) == 0:
        # A "folder" marker made by consoles and some tools; "" is the S3 console's
        # "Create folder" at the actor's prefix itself.
        return None
    problem = relative_path_problem(rel)
    if problem:
        return PathIssue(rel or key, f"S3 key refused: {problem}", "s3")
    if is_temp_name(rel.rsplit("/", 1)[-1]):
        return None
    etag = str(item.get("ETag", "")).strip('"')
    return RemoteObject(
        normalise(rel),
        key,
        int(item.get("Size", 0)),
        etag,
        epoch(item.get("LastModified")),
        etag if _HEX_MD5.match(etag) else None,
    )


def scan_remote(
    client: Any,
    bucket: str,
    prefix: str,
    *,
    workers: int = 16,
    cancel: CancelToken | None = None,
    on_progress: ListProgress | None = None,
) -> RemoteScan:
    """The actor's objects keyed by their path below `prefix`; hostile keys are refused."""
    notes: list[PathIssue] = []
    listed = _walk_prefix(
        client,
        bucket,
        prefix,
        workers,
        cancel,
        on_progress,
        lambda i: to_object(i, prefix),
        on_flat=lambda text: notes.append(PathIssue(f"s3://{bucket}/{prefix}", text, "s3")),
    )
    scan = collect_scan(prefix, listed)
    scan.notes[:0] = notes
    return scan


def collect_scan(prefix: str, listed: list[RemoteObject | PathIssue | None]) -> RemoteScan:
    """The listed objects by path; refused keys and keys that clash after normalisation
    become issues."""
    scan = RemoteScan()
    clashes: dict[str, list[RemoteObject]] = {}
    for found in listed:
        if found is None:
            continue
        if isinstance(found, PathIssue):
            scan.blocked.append(found)
            continue
        first = scan.objects.setdefault(found.path, found)
        if first is not found:
            clashes.setdefault(found.path, [first]).append(found)
    for path, objects in clashes.items():
        del scan.objects[path]
        names = ", ".join(sorted(o.key[len(prefix) :] for o in objects))
        scan.blocked.append(
            PathIssue(path, f"S3 keys clash after Unicode normalisation ({names})", "s3")
        )
    return scan


def _md5_from_metadata(metadata: dict[str, str]) -> str | None:
    value = metadata.get("md5", "").lower()
    if _HEX_MD5.match(value):
        return value
    # rclone stores the MD5 of multipart uploads base64-encoded as "md5chksum".
    encoded = metadata.get("md5chksum", "")
    if encoded:
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) == 16:
            return raw.hex()
    return None


def resolve_multipart(
    client: Any,
    bucket: str,
    scan: RemoteScan,
    local: dict[str, LocalFile],
    local_path: Callable[[LocalFile], str],
    cache: HashCache,
    *,
    workers: int = 8,
    cancel: CancelToken | None = None,
) -> None:
    """Learn the MD5 of multipart objects: cache, then MD5 metadata, then the local file's
    multipart ETag with the object's part size (or each candidate, where S3 hides it)."""
    todo = [o for o in scan.objects.values() if o.md5 is None]
    if not todo:
        return
    unchecked: list[str] = []

    def resolve(obj: RemoteObject) -> tuple[RemoteObject, str | None, str | None]:
        """(the object, its MD5 if found, a problem); an MD5 found only as our own earlier
        unchecked download comes back on a copy of the object marked `unchecked`."""
        if cancel is not None and cancel.cancelled:
            return obj, None, None
        known = cache.md5_for_etag(obj.etag, obj.size)
        if known:
            return obj, known, None
        try:
            head = client.head_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
            md5 = _md5_from_metadata(head.get("Metadata", {}))
            if md5:
                return obj, md5, None
            mine = local.get(obj.path)
            if mine is None or mine.size != obj.size:
                return obj, None, None
            kept = cache.md5_for_etag(obj.etag, obj.size, unverified=True)
            if kept and kept == mine.md5:
                return dataclasses.replace(obj, unchecked=True), kept, None
            sizes = object_part_sizes(client, bucket, obj.key, obj.size, obj.etag)
            if not sizes.sizes:
                return obj, None, None
            # The ETag and the MD5 from one read: the audit's MD5 came from an earlier read,
            # and a file changed in between would pair S3's ETag with the wrong MD5 in the cache.
            mine_now, etags = etags_by_part_size(local_path(mine), sizes.sizes, cancel)
            return obj, mine_now if obj.etag in etags.values() else None, None
        except OSError as exc:
            return obj, None, f"local file cannot be read ({exc.strerror})"
        except Exception as exc:
            return obj, None, f"cannot read S3 object metadata ({describe(exc)})"

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="head") as pool:
        for obj, md5, problem in pool.map(resolve, todo):
            if problem:
                scan.blocked.append(PathIssue(obj.path, problem, "s3"))
                scan.objects.pop(obj.path, None)
            elif md5:
                if obj.unchecked:  # never to become a verified ETag's MD5
                    unchecked.append(obj.path)
                else:
                    cache.remember_etag(obj.etag, obj.size, md5)
                scan.objects[obj.path] = dataclasses.replace(obj, md5=md5)
    for path in unchecked:
        scan.notes.append(PathIssue(path, _KEPT_UNVERIFIED, "s3"))
    if cancel is not None:
        cancel.raise_if_cancelled()


def resolve_encrypted(
    client: Any,
    bucket: str,
    scan: RemoteScan,
    known: Callable[[str], set[str]],
    cache: HashCache,
    *,
    workers: int = 8,
    cancel: CancelToken | None = None,
) -> None:
    """Take the MD5 of SSE-KMS / SSE-C objects from their metadata, not their ETag.

    Their ETag looks like an MD5 and is not one. Only an object whose ETag differs from
    every MD5 we know for its path (`known`: local file, manifest) can be such an object,
    and only one of those is asked first: a bucket whose first such object is not
    encrypted costs one HEAD a run; once one is, each of them is asked.
    """
    from trainsync_tui.engine.s3.partsize import encrypted

    suspects = [
        o
        for o in scan.objects.values()
        if o.md5 is not None and not o.is_multipart and o.md5 not in known(o.path)
    ]
    todo: list[RemoteObject] = []
    for obj in suspects:
        # Objects this machine sent or fetched were paired with their ETag then.
        cached = cache.md5_for_etag(obj.etag, obj.size)
        if cached and cached != obj.etag:
            _set_md5(scan, obj, cached)
        else:
            todo.append(obj)
    if not todo:
        return

    def ask(obj: RemoteObject) -> tuple[RemoteObject, dict[str, Any] | None, str | None]:
        if cancel is not None and cancel.cancelled:
            return obj, None, None
        try:
            head = client.head_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
        except Exception as exc:
            return obj, None, f"cannot read S3 object metadata ({describe(exc)})"
        return obj, dict(head), None

    # One object answers for the bucket; one that cannot be asked leaves the listing as
    # it is (then a download of an encrypted object is refused, never wrongly kept).
    first = ask(todo[0])
    if first[1] is None or not encrypted(first[1]):
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="head") as pool:
        for obj, head, problem in [first, *pool.map(ask, todo[1:])]:
            if problem:
                scan.blocked.append(PathIssue(obj.path, problem, "s3"))
                scan.objects.pop(obj.path, None)
            elif head is not None and encrypted(head):
                md5 = _md5_from_metadata(head.get("Metadata", {}))
                if md5:
                    cache.remember_etag(obj.etag, obj.size, md5)
                _set_md5(scan, obj, md5)
    if cancel is not None:
        cancel.raise_if_cancelled()


def _set_md5(scan: RemoteScan, obj: RemoteObject, md5: str | None) -> None:
    scan.objects[obj.path] = RemoteObject(
        obj.path, obj.key, obj.size, obj.etag, obj.last_modified, md5
    )


def bucket_versioning(client: Any, bucket: str) -> Callable[[], bool]:
    """Ask once, lazily, whether the bucket keeps versions."""
    answer: list[bool] = []
    lock = threading.Lock()

    def versioned() -> bool:
        with lock:
            if not answer:
                try:
                    status = client.get_bucket_versioning(Bucket=bucket).get("Status")
                except Exception:
                    status = None
                answer.append(status == "Enabled")
            return answer[0]

    return versioned
