"""Conditional writes and deletes, and what happens on a server that refuses them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from trainsync_tui.engine.s3.client import describe
from trainsync_tui.engine.s3.error_codes import is_not_implemented, is_precondition_failed

CHANGED_IN_S3 = "changed in S3 since the audit; sync again"
UNPROTECTED = (
    "writes go without conditions there, so another writer's change made during a sync may "
    "be overwritten, and the lease that keeps two servers from syncing one actor at once is "
    "kept by read-then-write, which two servers starting in the same instant can both pass"
)

Server = tuple[str, str]  # (endpoint, bucket)
# Per process and server: why its conditional writes cannot be trusted. Whichever part of a
# run meets it first (the lease or a transfer) warns; the user hears it once, not per part.
_UNSUPPORTED: dict[Server, str] = {}
# Per process: servers seen to refuse a second If-None-Match create; no need to ask again.
_CHECKED: set[Server] = set()
# Per process: (server, topic) of each warning about a server's ways, said once.
_WARNED: set[tuple[Server, str]] = set()
_STATE_LOCK = threading.Lock()
# What a warning leaves out to stay one line; the CLI's --debug prints it.
detail_log = logging.getLogger("trainsync.detail")


def server_of(endpoint_url: str | None, bucket: str) -> Server:
    return (endpoint_url or "AWS S3", bucket)


def conditions_unsupported(server: Server) -> bool:
    with _STATE_LOCK:
        return server in _UNSUPPORTED


def conditions_checked(server: Server) -> bool:
    """True once `server` was seen to apply If-None-Match (and never seen to refuse it)."""
    with _STATE_LOCK:
        return server in _CHECKED and server not in _UNSUPPORTED


def mark_checked(server: Server) -> None:
    with _STATE_LOCK:
        _CHECKED.add(server)


def first_warning(server: Server, topic: str) -> bool:
    """True the first time this process warns about `topic` on `server`: what a server does
    is said once per run, not once per actor or file (the app's log pane filled up)."""
    with _STATE_LOCK:
        first = (server, topic) not in _WARNED
        _WARNED.add((server, topic))
    return first


def unprotected(server: Server, why: str, evidence: str = "") -> str:
    """The one line that says `server` cannot be trusted with conditions; the why and what
    it risks go to the detail log (--debug)."""
    seen = f" ({evidence})" if evidence else ""
    detail_log.debug("S3 at %s (bucket %s) %s%s: %s", *server, why, seen, UNPROTECTED)
    return f"S3 at {server[0]} {why}; writes go unconditionally (--debug: why)"


def mark_unsupported(server: Server, why: str) -> bool:
    """Record that `server` refuses or ignores conditions; True the first time (warn then)."""
    with _STATE_LOCK:
        first = server not in _UNSUPPORTED
        _UNSUPPORTED.setdefault(server, why)
    return first


class Conditions:
    """Whether this run still sends conditions, and the one warning when a server refuses them.

    A server that answers NotImplemented to a condition gets the request again without it
    (the sync goes on, as S3 without conditional writes would) and the user is told once per
    run, not per file: two writers on one bucket are then not protected on that server.
    """

    def __init__(
        self, warn: Callable[[str], None] | None = None, server: Server = ("", "")
    ) -> None:
        self.enabled = True
        self.warn = warn
        self.server = server

    def refused(self, what: str) -> None:
        self.enabled = False
        if mark_unsupported(self.server, f"refuses {what}") and self.warn is not None:
            self.warn(unprotected(self.server, f"refuses {what}"))


def delete_own(client: Any, bucket: str, key: str, etag: str, conditions: Conditions) -> str:
    """Delete the object this run wrote at `key`, only while it is still ours (ETag `etag`).

    Returns how it went, to append to the path's error: another writer's object is never
    deleted, and on a server that cannot delete conditionally nothing is deleted at all.
    """
    try:
        client.delete_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"')
    except Exception as exc:
        if is_precondition_failed(exc):
            return "S3 holds another writer's object there now; left alone"
        if is_not_implemented(exc):
            conditions.refused("conditional deletes (DeleteObject If-Match)")
            return f"left in S3 at {key}: the server cannot delete it only if it is still ours"
        return f"left in S3 at {key}: cannot delete it ({describe(exc)})"
    return "removed from S3"
