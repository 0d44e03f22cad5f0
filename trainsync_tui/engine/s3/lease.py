"""One sync per actor across machines: a lease object in S3, taken with conditional writes.

The flock (lock.py) keeps the runs of one root apart; servers sharing a bucket need a lock
all can see: a JSON object beside the actor's prefix (`actors/<name>/training_data` +
LEASE_SUFFIX for the default template), outside what the actor's scan lists and inside the
actor's folder, so `--all` finds no new folder. It is created with `If-None-Match: *`,
renewed by a thread with `If-Match` on its ETag, taken over once expired (`If-Match` on the
expired ETag: of two servers taking over at once one wins) and deleted with `If-Match`.
Expiry is judged on S3's clock (LastModified + TTL against the Date of S3's reply), so the
servers' clocks need not agree. A server that refuses the conditions (NotImplemented) or
ignores them (a second `If-None-Match: *` PUT succeeds) gets one warning per process; there
the lease is read before it is written, which stops a server that starts later, not two
that start in the same instant. Until a server has shown it applies the condition, the
lease is read first everywhere.

Fencing (Kleppmann, "How to do distributed locking"): conditions are only a second line, and
some servers ignore them. A run writes to S3 only while its own monotonic clock proves the
lease valid: until the start of its last successful write of the lease + TTL − a margin.
Another server judges expiry on S3's clock from that write's LastModified, which is later,
so by the time it may take over this run has stopped. Every write of the run's client is
checked first (`fence`), and a watchdog stops the run the moment validity lapses, however
long a renewal is held by a silent S3.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, LeaseLostError, LockBusyError
from trainsync_tui.engine.s3.client import describe, epoch
from trainsync_tui.engine.s3.conditions import (
    conditions_checked,
    conditions_unsupported,
    detail_log,
    first_warning,
    mark_checked,
    mark_unsupported,
    server_of,
    unprotected,
)
from trainsync_tui.engine.s3.error_codes import (
    is_access_denied,
    is_invalid_request,
    is_missing_object,
    is_not_implemented,
    is_precondition_failed,
)

LEASE_SUFFIX = ".trainsync-lease.json"
DEFAULT_TTL = 60.0
# What a run gives up of its TTL for the clocks' rates and S3's clock stamping a renewal
# later than it was sent: it stops writing this long before another server may take over.
MARGIN_SHARE = 1 / 6
RENEWAL_JOIN_SECONDS = 0.2
# The requests that change S3: refused once the lease cannot be proved valid. An abort is
# left out: it only removes a multipart upload of ours.
WRITES = frozenset(
    {
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "DeleteObjects",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
    }
)
_POLL_SECONDS = 1.0

Warn = Callable[[str], None]


def lease_key(prefix: str) -> str:
    """Where an actor's lease lives: beside its prefix, never inside what a scan lists."""
    return prefix.rstrip("/") + LEASE_SUFFIX


@dataclass(frozen=True)
class Found:
    """A lease read from S3: whose, its ETag and whether S3's clock says it has expired."""

    etag: str
    info: dict[str, Any]
    expired: bool

    def describe(self) -> str:
        holder = self.info.get("holder") or "an unknown holder"
        pid = self.info.get("pid")
        until = self.info.get("expires")
        text = f"{holder}" + (f" (pid {pid})" if pid else "")
        return text + (f", lease until {until}" if until else "")


class Lease:
    """The lease on one actor for one run; `acquire`, then `release` (renewed in between)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        actor: str,
        *,
        endpoint: str | None,
        who: str = "trainsync",
        ttl: float = DEFAULT_TTL,
        cancel: CancelToken | None = None,
        warn: Warn = lambda _: None,
        waiting: Warn = lambda _: None,
        lock_proof: str | None = None,
        root_id: str | None = None,
        run_client: Any = None,
    ) -> None:
        # The lease is taken through the run's client (a cancel closes a request a silent S3
        # holds), renewed and given back through `client`, which outlives a cancel.
        self.client = self._s3 = client
        self.run_client = run_client or client
        self.bucket = bucket
        self.key = key
        self.actor = actor
        self.ttl = ttl
        self.cancel = cancel or CancelToken()
        self.warn = warn
        self.waiting = waiting
        self.server = server_of(endpoint, bucket)
        self.token = uuid.uuid4().hex
        self.holder = f"{_user()}@{socket.gethostname()}"
        self.who = who
        # Taken while we hold the flock this names (lock.py): a lease naming it is a dead run's.
        self.lock_proof = lock_proof
        self.root_id = root_id
        self.etag: str | None = None
        self.lost: str | None = None
        self.took_over: str | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_seen: Found | None = None
        # Monotonic: until when this run may write (see the module's docstring on fencing).
        self._valid_until = float("inf")
        self._validity = threading.Condition()

    def _body(self) -> bytes:
        now = time.time()
        info = {
            "trainsync_lease": 1, "actor": self.actor, "holder": self.holder,
            "pid": os.getpid(), "who": self.who, "token": self.token,
            "root_id": self.root_id, "lock": self.lock_proof,
            "renewed": _iso(now), "expires": _iso(now + self.ttl), "ttl_s": self.ttl,
        }  # fmt: skip
        return json.dumps(info).encode()

    def _put(self, **condition: str) -> str:
        body = self._body()
        started = time.monotonic()
        reply = self._s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=body,
            ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
            ContentType="application/json",
            **condition,
        )
        self._valid_from(started)
        return str(reply.get("ETag", ""))

    def _valid_from(self, started: float) -> None:
        """A write of the lease that began at `started` succeeded: valid for TTL from then."""
        with self._validity:
            if self.lost is None:
                self._valid_until = started + self.ttl * (1 - MARGIN_SHARE)
                self._validity.notify_all()

    @property
    def valid(self) -> bool:
        """Whether this run may still write: its lease not lost and not lapsed by our clock."""
        return self.lost is None and time.monotonic() < self._valid_until

    def fence(self, operation: str) -> None:
        """Before a write to S3: stop the run (raise CancelledSync, lost set) unless `valid`."""
        if operation in WRITES and not self.valid:
            self._lose(self._lapsed())
            raise CancelledSync()

    def _lapsed(self) -> str:
        return self.lost or (
            f"{self.actor}: the S3 lease could not be renewed in time (lease_ttl "
            f"{self.ttl:g} s), so another server may now sync this actor; this run stopped "
            "writing"
        )

    def _read(self) -> Found | None:
        try:
            reply = self._s3.get_object(Bucket=self.bucket, Key=self.key)
            raw = reply["Body"].read()
        except Exception as exc:
            if is_missing_object(exc):
                return None
            raise
        info: Any = None
        with contextlib.suppress(ValueError):
            info = json.loads(raw)
        if not isinstance(info, dict):
            info = {}  # not ours to read: it still expires after the default TTL
        try:
            ttl = float(info.get("ttl_s", DEFAULT_TTL))
        except (TypeError, ValueError):
            ttl = DEFAULT_TTL
        headers = reply.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        server_now = _header_time(headers.get("date")) or time.time()
        # Both times are whole seconds: ">" never ends a lease early (it may run a second long).
        expired = server_now > epoch(reply.get("LastModified")) + ttl
        return Found(str(reply.get("ETag", "")), info, expired)

    # -- taking it -------------------------------------------------------------------------

    @property
    def conditional(self) -> bool:
        return not conditions_unsupported(self.server)

    def _unsupported(self, why: str, evidence: str = "") -> None:
        if mark_unsupported(self.server, why):
            self.warn(unprotected(self.server, why, evidence))

    def acquire(self, *, wait: bool) -> None:
        """Take the lease, or raise LockBusyError naming its holder (or wait for it)."""
        self._s3 = self.run_client
        try:
            self._take(wait=wait)
        finally:
            self._s3 = self.client
        if self.etag is None:  # no lease could be written (warned): nothing to renew or fence
            with self._validity:
                self._valid_until = float("inf")
            return
        for target, name in ((self._watch, "lease watch"), (self._renew_loop, "lease")):
            thread = threading.Thread(target=target, name=f"{name} {self.actor}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _take(self, *, wait: bool) -> None:
        said = None
        while True:
            self.cancel.raise_if_cancelled()
            if self._try_take():
                return
            found = self._last_seen
            if found is None:
                continue  # released between our write and our read: try again at once
            if not wait:
                raise LockBusyError(
                    f"{self.actor} is already being synced by {found.describe()} "
                    f"(lease s3://{self.bucket}/{self.key}); wait for it to finish "
                    "(or pass --wait)",
                    found.describe(),
                )
            if said != found.describe():
                said = found.describe()
                self.waiting(f"waiting for the S3 lease held by {said}")
            if self.cancel.wait(_POLL_SECONDS):
                self.cancel.raise_if_cancelled()

    def _try_take(self) -> bool:
        """One attempt: create, or take over an expired lease. Leaves what blocked us.

        Until this server has shown that it applies If-None-Match, the lease is read first:
        a server that ignores the condition would let the create overwrite a live lease.
        """
        self._last_seen = None
        if self._trusted():
            created = self._create()
            if created is not None:
                return created
        found = self._read()
        if found is None:
            if self.conditional:
                created = self._create()
                if created is not None or self.conditional:
                    return bool(created)  # False: another server created it first
            return self._take_unconditionally()
        ours = self._ours(found)  # our create whose reply was lost, then retried
        left_here = self.lock_proof is not None and found.info.get("lock") == self.lock_proof
        if not (found.expired or ours or left_here):
            self._last_seen = found
            return False
        if not self.conditional:
            return self._take_unconditionally()
        try:
            self.etag = self._put(IfMatch=found.etag)
        except Exception as exc:
            if is_precondition_failed(exc) or is_missing_object(exc):
                return False  # another server took it over first, or it was released
            raise
        if found.expired and not ours:
            self.took_over = f"the expired S3 lease of {found.describe()}"
        elif left_here and not ours:
            self.took_over = (
                f"the S3 lease of {found.describe()}, left by a run on this root that ended "
                "without releasing it"
            )
        self._check_conditions_applied()
        return True

    def _trusted(self) -> bool:
        return conditions_checked(self.server)

    def _create(self) -> bool | None:
        """Create with If-None-Match: True when taken (or when no lease can be written),
        None when it exists already or the server refuses the condition."""
        try:
            self.etag = self._put(IfNoneMatch="*")
        except Exception as exc:
            if is_access_denied(exc):
                self._no_lease(exc)
                return True
            if _refuses_conditions(exc):
                self._unsupported("refuses conditional writes", describe(exc))
                return None
            if is_precondition_failed(exc):
                return None
            raise
        self._check_conditions_applied()
        return True

    def _ours(self, found: Found | None) -> bool:
        return found is not None and found.info.get("token") == self.token

    def _check_conditions_applied(self) -> None:
        """A second create must fail; where it succeeds the server ignores If-None-Match."""
        if conditions_unsupported(self.server) or conditions_checked(self.server):
            return
        try:
            self.etag = self._put(IfNoneMatch="*")
        except Exception as exc:
            if is_precondition_failed(exc):
                mark_checked(self.server)
                return
            raise
        self._unsupported("ignores If-None-Match", "a second conditional create succeeded")

    def _no_lease(self, exc: BaseException) -> None:
        # Read-only credentials can still download: the run goes on, unprotected, and says so
        # once (every actor of a --all run meets the same refusal).
        self.etag = None
        detail_log.debug(
            "cannot write the S3 lease s3://%s/%s (%s): another server syncing this actor at "
            "the same time would not be stopped",
            self.bucket,
            self.key,
            describe(exc),
        )
        if first_warning(self.server, "no lease"):
            self.warn(
                f"cannot write S3 leases at {self.server[0]}: syncs are not kept apart from "
                "other servers' (--debug: why)"
            )

    def _take_unconditionally(self) -> bool:
        self.etag = self._put()
        return True

    # -- keeping it ------------------------------------------------------------------------

    def _renew_loop(self) -> None:
        interval = self.ttl / 3
        while not self._stop.wait(interval) and self.lost is None:
            try:
                self._renew()
            except LeaseLostError as exc:
                self._lose(str(exc))
                return
            except Exception:
                continue  # a network blip: try again next round; `_watch` judges the lapse

    def _renew(self) -> None:
        if self.conditional:
            try:
                self.etag = self._put(IfMatch=self.etag or "")
                return
            except Exception as exc:
                if not (is_precondition_failed(exc) or is_missing_object(exc)):
                    raise
            # A renewal whose reply was lost changed the ETag: still ours if it has our token.
            found = self._read()
            if self._ours(found):
                assert found is not None
                self.etag = self._put(IfMatch=found.etag)
                return
        else:
            found = self._read()
            if self._ours(found):
                self.etag = self._put()
                return
        raise LeaseLostError(
            f"{self.actor}: another server took over this run's S3 lease "
            f"(s3://{self.bucket}/{self.key}); this run stopped"
        )

    def _watch(self) -> None:
        """Stop the run when validity lapses, even while a renewal is held by a silent S3."""
        with self._validity:
            while not self._stop.is_set():
                left = self._valid_until - time.monotonic()
                if left <= 0:
                    break
                self._validity.wait(left)
        if not self._stop.is_set():
            self._lose(self._lapsed())

    def _lose(self, message: str) -> None:
        with self._validity:
            if self.lost is None:
                self.lost = message
            self._valid_until = float("-inf")
        self.cancel.cancel()

    # -- giving it back --------------------------------------------------------------------

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours (a failure only waits out the
        TTL, so it is swallowed)."""
        self._stop.set()
        with self._validity:
            self._validity.notify_all()
        watcher, renewer = self._threads or (None, None)
        if watcher is not None and renewer is not None:
            watcher.join()
            # A renewal held by a silent S3 is left to its request deadline: its answer no
            # longer matters, as this run writes nothing more.
            renewer.join(RENEWAL_JOIN_SECONDS)
        if self.lost or self.etag is None:
            return
        with contextlib.suppress(Exception):
            if self.conditional:
                try:
                    self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag)
                    return
                except Exception as exc:
                    if is_precondition_failed(exc):  # ours still, after a lost reply?
                        found = self._read()
                        if self._ours(found) and found is not None:
                            self.client.delete_object(
                                Bucket=self.bucket, Key=self.key, IfMatch=found.etag
                            )
                    if not _refuses_conditions(exc):
                        return  # no longer ours (or gone): leave it
            found = self._read()
            if self._ours(found):
                self.client.delete_object(Bucket=self.bucket, Key=self.key)


def _refuses_conditions(exc: BaseException) -> bool:
    """A server that will not apply a condition: S3 says 501 NotImplemented, some servers
    call the header invalid. The lease's PUT carries nothing else that could be invalid, so
    here (unlike a transfer's PUT) InvalidArgument can only mean the condition."""
    return is_not_implemented(exc) or is_invalid_request(exc)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid{os.getuid()}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
