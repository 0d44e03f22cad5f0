"""One listing for a fleet of actors: every actor's objects from flat pages of their common
root, in key ranges listed side by side, instead of a walk per actor."""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable
from typing import Any, Protocol

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

    def __init__(self, actors: int, open_ended: bool, largest: int) -> None:
        self._actors = actors  # in the range
        self._open_ended = open_ended  # the last range: it runs to the root's end
        self._largest = largest
        self._keys = 0
        self._begun = 0  # the range's actors a page has reached
        self._floor = min(_MIN_PAGE, largest)
        self._asked = 0

    def listed(self, keys: int, begun: int | None) -> None:
        """A page of `keys` keys came, its last key in the range's actor number `begun`
        (counted from 1; None when no actor of the range holds it)."""
        self._keys += keys
        if begun is not None:
            self._begun = begun

    def next_size(self) -> int:
        if self._asked and self._asked < self._largest:  # the last page fell short of the end
            self._floor = min(self._largest, self._asked * 2)
        if not self._begun or self._open_ended:
            self._asked = self._largest  # nothing learnt yet, or nothing to size it by
        else:
            expected = self._keys * (self._actors - self._begun) // self._begun
            self._asked = max(self._floor, min(self._largest, expected + expected // 10 + 20))
        return self._asked


_PAGE = 1000
_MIN_PAGE = 50  # s3rver answers max-keys=1 with a 500; no page is that small


# Past this many keys a fleet's actors list their own prefixes, one actor at a time.
FLEET_MAX_KEYS = 200_000


class FleetScans(Protocol):
    """Actors' S3 listings by prefix: a dict, or a FleetListing still under way."""

    def get(self, prefix: str) -> RemoteScan | None: ...


class FleetListing:
    """Every actor's objects (what scan_remote gives per prefix) from one flat listing of
    `root`, in key ranges listed side by side by threads of their own: a fleet of small
    actors costs a page per 1,000 objects instead of a walk (two or more requests) per
    actor. `get(prefix)` waits only until that actor's range has listed past it, so the
    actors already listed are looked at while the server lists the rest.

    Flat pages, so a server that leaves folders out of delimiter listings lists it whole.
    Range i holds the keys k with after[i] < k <= after[i+1] (each prefix[:-1] sorts below
    every key starting with the prefix): disjoint, and together every key of every actor,
    each kept by the actor whose prefix it starts with. A page asks for at most `page` keys,
    and fewer near its range's end (_RangePages). Past `max_keys` keys in all it stops: a
    fleet of big actors gains nothing from it, and would hold every actor's listing at once
    instead of one actor's at a time; `get` then says None for an actor not yet listed (it
    lists its own prefix), as it does when a range fails or the run is cancelled.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        root: str,
        ordered: list[str],
        *,
        workers: int,
        cancel: CancelToken | None,
        max_keys: int,
        page: int,
    ) -> None:
        self._client, self._bucket, self._root = client, bucket, root
        self._ordered = ordered
        self._cancel, self._max_keys, self._page = cancel, max_keys, page
        chunks = max(1, min(workers, len(ordered) // 50 or 1))
        self._bounds = [len(ordered) * i // chunks for i in range(chunks)] + [len(ordered)]
        starts = [ordered[b] for b in self._bounds[:-1]]
        self._after: list[str | None] = [None] + [p[:-1] for p in starts[1:]] + [None]
        self._range_of = {p: i for i in range(chunks) for p in self._range(i)}
        self._ready: dict[str, RemoteScan] = {}
        self._running = set(range(chunks))
        self._seen = 0
        self._too_many = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=self._list, args=(i,), name=f"fleet_{i}", daemon=True)
            for i in range(chunks)
        ]
        for thread in self._threads:
            thread.start()

    def _range(self, i: int) -> list[str]:
        return self._ordered[self._bounds[i] : self._bounds[i + 1]]

    def order(self) -> list[str]:
        """The prefixes in the order their listings complete if the ranges keep pace: the
        first actor of every range, then the second of each, and so on."""
        ranges = [self._range(i) for i in range(len(self._bounds) - 1)]
        return [r[j] for j in range(max(map(len, ranges))) for r in ranges if j < len(r)]

    def get(self, prefix: str) -> RemoteScan | None:
        """`prefix`'s objects once its range has listed past it; None when it is not one of
        the fleet's, or its range stopped first (too many keys, a failure, a cancel)."""
        with self._changed:
            while prefix not in self._ready and self._range_of.get(prefix) in self._running:
                self._changed.wait()
            return self._ready.get(prefix)

    def result(self) -> dict[str, RemoteScan] | None:
        """Every actor's objects once all ranges are listed; None past `max_keys` keys.
        Raises what a range raised, or CancelledSync."""
        for thread in self._threads:
            thread.join()
        if self._cancel is not None:
            self._cancel.raise_if_cancelled()
        if self._error is not None:
            raise self._error
        return None if self._too_many else dict(self._ready)

    def _stopped(self) -> bool:
        cancelled = self._cancel is not None and self._cancel.cancelled
        return cancelled or self._too_many or self._error is not None

    def _list(self, i: int) -> None:
        actors = self._range(i)
        items: dict[str, list[dict[str, Any]]] = {p: [] for p in actors}
        done = 0  # actors[:done] are in self._ready

        def complete(upto: int) -> None:
            nonlocal done
            scans = {
                p: collect_scan(p, [to_object(x, p) for x in items.pop(p)])
                for p in actors[done:upto]
            }
            with self._changed:
                self._ready.update(scans)
                self._changed.notify_all()
            done = max(done, upto)

        try:
            if self._list_range(i, items, complete):
                complete(len(actors))
        except BaseException as exc:
            with self._changed:
                self._error = self._error or exc
        finally:
            with self._changed:
                self._running.discard(i)
                self._changed.notify_all()

    def _list_range(
        self,
        i: int,
        items: dict[str, list[dict[str, Any]]],
        complete: Callable[[int], None],
    ) -> bool:
        """List range i into `items`, completing its actors as pages pass them; False when
        the listing stopped first."""
        first, last = self._after[i], self._after[i + 1]
        actors = self._range(i)
        pages = _RangePages(len(actors), last is None, self._page)
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._root}
        if first is not None:
            kwargs["StartAfter"] = first
        while True:
            answer = self._client.list_objects_v2(**kwargs, MaxKeys=pages.next_size())
            contents = answer.get("Contents", ())
            with self._changed:
                self._seen += len(contents)
                self._too_many = self._too_many or self._seen > self._max_keys
            if self._stopped():
                return False
            for item in contents:
                key = item["Key"]
                if last is not None and key > last:
                    return True
                mine = self._owner(key)
                if mine is not None:
                    items[mine].append(item)
            owner = self._owner(contents[-1]["Key"]) if contents else None
            at = None if owner is None else bisect.bisect_left(actors, owner)
            pages.listed(len(contents), None if at is None else at + 1)
            if at is not None:  # every actor before the last key's is listed whole
                complete(at)
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or not token:
                return True
            kwargs["ContinuationToken"] = token

    def _owner(self, key: str) -> str | None:
        at = bisect.bisect_right(self._ordered, key) - 1
        return self._ordered[at] if at >= 0 and key.startswith(self._ordered[at]) else None


def start_fleet_listing(
    client: Any,
    bucket: str,
    root: str,
    prefixes: list[str],
    *,
    workers: int = 8,
    cancel: CancelToken | None = None,
    max_keys: int = FLEET_MAX_KEYS,
    page: int = _PAGE,
) -> FleetListing | None:
    """The FleetListing of `prefixes`, under way; None when they cannot share one listing
    (nested, or not below `root`)."""
    ordered = sorted(set(prefixes))
    if not ordered or any(not p.startswith(root) or not p for p in ordered):
        return None
    if any(b.startswith(a) for a, b in itertools.pairwise(ordered)):
        return None
    return FleetListing(
        client, bucket, root, ordered, workers=workers, cancel=cancel, max_keys=max_keys, page=page
    )


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
