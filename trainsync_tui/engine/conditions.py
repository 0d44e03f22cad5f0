"""Conditional writes and deletes, and what happens on a server that refuses them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from trainsync_tui.engine.s3client import describe, error_code

PRECONDITION_CODES = ("PreconditionFailed", "ConditionalRequestConflict", "412")
# What a server says when it does not take If-Match / If-None-Match on a request.
REFUSED_CODES = ("NotImplemented", "501")
CHANGED_IN_S3 = "changed in S3 since the audit; sync again"


def failed_precondition(exc: BaseException) -> bool:
    return error_code(exc) in PRECONDITION_CODES


class Conditions:
    """Whether this run still sends conditions, and the one warning when a server refuses them.

    A server that answers NotImplemented to a condition gets the request again without it
    (the sync goes on, as S3 without conditional writes would) and the user is told once per
    run, not per file: two writers on one bucket are then not protected on that server.
    """

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self.enabled = True
        self.warn = warn
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def refused(self, what: str) -> None:
        with self._lock:
            self.enabled = False
            first = what not in self._warned
            self._warned.add(what)
        if first and self.warn is not None:
            self.warn(
                f"the S3 server refuses {what}: sent without the condition; another writer's "
                "change made during this sync may be overwritten"
            )


def delete_own(client: Any, bucket: str, key: str, etag: str, conditions: Conditions) -> str:
    """Delete the object this run wrote at `key`, only while it is still ours (ETag `etag`).

    Returns how it went, to append to the path's error: another writer's object is never
    deleted, and on a server that cannot delete conditionally nothing is deleted at all.
    """
    try:
        client.delete_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"')
    except Exception as exc:
        code = error_code(exc)
        if code in PRECONDITION_CODES:
            return "S3 holds another writer's object there now; left alone"
        if code in REFUSED_CODES:
            conditions.refused("conditional deletes (DeleteObject If-Match)")
            return f"left in S3 at {key}: the server cannot delete it only if it is still ours"
        return f"left in S3 at {key}: cannot delete it ({describe(exc)})"
    return "removed from S3"
