"""One listing for a fleet of actors: every actor's objects from flat pages of their common
root, in key ranges listed side by side, instead of a walk per actor."""

from __future__ import annotations

import bisect
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.s3.listing import RemoteScan, collect_scan, to_object


class _RangePages:
    """Page sizes for one key range of a fleet listing. A range ends inside a page, and
    every key past it on that page was listed for nothing (the next range lists it again:
    a page of 1,000 keys where 100 were this range's costs a server ten times what the
    range needed, ~17 % of a 1,000-actor fleet's listing). So once a page has shown how
    many keys an actor holds here, the next page asks for about what the actors left in
    the range should hold, plus a margin; fewer than that costs one more page, never a key,
    and each page that falls short asks for twice as many next (an actor far bigger than its
    neighbours costs a few small pages, not thousands)."""

    def __init__(self, ordered: list[str], first: int, last: str | None, largest: int) -> None:
        self._ordered = ordered
        self._largest = largest
        self._first = first
        self._end = len(ordered) if last is None else bisect.bisect_right(ordered, last)
        self._keys = 0
        self._reached = first  # actors begun, counted from the range's first
        self._floor = min(_MIN_PAGE, largest)
        self._asked = 0

    def listed(self, keys: int, last_owner: str | None) -> None:
        self._keys += keys
        if last_owner is not None:
            self._reached = bisect.bisect_left(self._ordered, last_owner) + 1

    def next_size(self) -> int:
        if self._asked and self._asked < self._largest:  # the last page fell short of the end
            self._floor = min(self._largest, self._asked * 2)
        begun = self._reached - self._first
        if begun <= 0 or self._end == len(self._ordered):
            self._asked = self._largest  # nothing learnt yet, or the last range (to the root's end)
        else:
            expected = self._keys * (self._end - self._reached) // begun
            self._asked = max(self._floor, min(self._largest, expected + expected // 10 + 20))
        return self._asked


_PAGE = 1000
_MIN_PAGE = 50  # s3rver answers max-keys=1 with a 500; no page is that small


# Past this many keys a fleet's actors list their own prefixes, one actor at a time.
FLEET_MAX_KEYS = 200_000


def list_fleet(
    client: Any,
    bucket: str,
    root: str,
    prefixes: list[str],
    *,
    workers: int = 8,
    cancel: CancelToken | None = None,
    max_keys: int = FLEET_MAX_KEYS,
    page: int = _PAGE,
) -> dict[str, RemoteScan] | None:
    """Every actor's objects (what scan_remote gives per prefix) from one flat listing of
    `root`, in up to `workers` key ranges listed side by side: a fleet of small actors costs
    a page per 1,000 objects instead of a walk (two or more requests) per actor. None when
    the prefixes cannot share one listing (nested, or not below `root`), or when `root`
    holds more than `max_keys` keys: a fleet of big actors gains nothing from it, and would
    hold every actor's listing at once instead of one actor's at a time.

    Flat pages, so a server that leaves folders out of delimiter listings lists it whole.
    Ranges start after a key just below an actor's prefix (`StartAfter`) and end where the
    next range starts; each key is kept once, by the actor whose prefix it starts with. A
    page asks for at most `page` keys, and fewer near a range's end (_RangePages)."""
    ordered = sorted(set(prefixes))
    if not ordered or any(not p.startswith(root) or not p for p in ordered):
        return None
    if any(b.startswith(a) for a, b in itertools.pairwise(ordered)):
        return None
    chunks = max(1, min(workers, len(ordered) // 50 or 1))
    # A range i holds keys k with after[i] < k <= after[i+1]: disjoint, and together every
    # key of every actor (each prefix[:-1] sorts below every key starting with the prefix).
    starts = [ordered[len(ordered) * i // chunks] for i in range(chunks)]
    after: list[str | None] = [None] + [p[:-1] for p in starts[1:]] + [None]
    items: dict[str, list[dict[str, Any]]] = {p: [] for p in ordered}
    seen = [0]
    too_many = threading.Event()
    lock = threading.Lock()

    def owner(key: str) -> str | None:
        at = bisect.bisect_right(ordered, key) - 1
        return ordered[at] if at >= 0 and key.startswith(ordered[at]) else None

    def list_range(i: int) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        first, last = after[i], after[i + 1]
        pages = _RangePages(ordered, bisect.bisect_left(ordered, starts[i]), last, page)
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": root}
        if first is not None:
            kwargs["StartAfter"] = first
        while True:
            answer = client.list_objects_v2(**kwargs, MaxKeys=pages.next_size())
            if (cancel is not None and cancel.cancelled) or too_many.is_set():
                return found
            contents = answer.get("Contents", ())
            with lock:
                seen[0] += len(contents)
                if seen[0] > max_keys:
                    too_many.set()
            for item in contents:
                key = item["Key"]
                if last is not None and key > last:
                    return found
                mine = owner(key)
                if mine is not None:
                    found.append((mine, item))
            pages.listed(len(contents), owner(contents[-1]["Key"]) if contents else None)
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or not token:
                return found
            kwargs["ContinuationToken"] = token

    with ThreadPoolExecutor(max_workers=chunks, thread_name_prefix="fleet") as pool:
        for found in pool.map(list_range, range(chunks)):
            for mine, item in found:
                items[mine].append(item)
    if cancel is not None:
        cancel.raise_if_cancelled()
    if too_many.is_set():
        return None
    return {p: collect_scan(p, [to_object(i, p) for i in items[p]]) for p in ordered}


def prefixes_with_uploads(client: Any, bucket: str, root: str, prefixes: list[str]) -> set[str]:
    """Which of `prefixes` (all below `root`) hold an unfinished multipart upload: one paged
    ListMultipartUploads of `root` for them all. Raises what S3 raises (a server without
    the call: the caller asks each actor as a sync does)."""
    wanted = set(prefixes)
    found: set[str] = set()
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=root):
        for upload in page.get("Uploads", ()):
            # Uploads are few (each a file being written): a plain scan of the prefixes.
            found.update(p for p in wanted if upload["Key"].startswith(p))
    return found
