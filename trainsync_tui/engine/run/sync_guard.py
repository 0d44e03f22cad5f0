"""Hold an actor for a sync: this root's flock (local/flock.py), then the actor's lease in S3
(s3/lease.py), so one sync per actor runs across the CLI, the app, the API and every root
sharing the bucket."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import CancelledSync, LeaseLostError, TrainsyncError
from trainsync_tui.engine.events import EventSink, Message
from trainsync_tui.engine.local.flock import actor_lock
from trainsync_tui.engine.s3.client import classify
from trainsync_tui.engine.s3.lease import DEFAULT_TTL, Lease, lease_key
from trainsync_tui.engine.s3.request_guard import AFTER_CANCEL_SECONDS


@contextlib.contextmanager
def sync_guard(
    settings: Settings,
    client: Callable[[], Any],
    layout: ActorLayout,
    who: str,
    wait: bool,
    cancel: CancelToken,
    sink: EventSink,
    run_client: Callable[[], Any] | None = None,
) -> Iterator[None]:
    """The actor's flock on this root, then its lease in S3 (so the flock decides among the runs
    of one root and only one of them asks S3). Busy → LockBusyError naming the holder."""
    with (
        actor_lock(settings.state_dir, layout.name, who, wait=wait, cancel=cancel),
        actor_lease(
            settings,
            client,
            layout,
            who=who,
            wait=wait,
            cancel=cancel,
            sink=sink,
            run_client=run_client,
        ),
    ):
        yield


@contextlib.contextmanager
def actor_lease(
    settings: Settings,
    client: Callable[[], Any],
    layout: ActorLayout,
    *,
    who: str,
    wait: bool,
    cancel: CancelToken,
    sink: EventSink,
    ttl: float = DEFAULT_TTL,
    run_client: Callable[[], Any] | None = None,
) -> Iterator[Lease]:
    """Hold the actor's S3 lease for the block; taken with this root's flock held, so a lease
    of this root found then was left by a run that died and is taken over at once.

    Raises LockBusyError naming the holder, a classified S3 error, or LeaseLostError at the
    end when another server took the lease over meanwhile.
    """

    def warn(text: str) -> None:
        sink(Message(layout.name, "warning", text))

    lease = Lease(
        client(), settings.require_bucket(), lease_key(layout.prefix), layout.name,
        endpoint=settings.endpoint_url, who=who, ttl=ttl, cancel=cancel, warn=warn,
        waiting=lambda text: sink(Message(layout.name, "info", text)),
        root=f"{_machine()}:{settings.state_dir.resolve()}",
        run_client=run_client() if run_client else None,
    )  # fmt: skip
    try:
        lease.acquire(wait=wait)
    except TrainsyncError:
        raise
    except Exception as exc:
        raise classify(exc, settings) from None
    if lease.took_over:
        warn(f"took over {lease.took_over}")
    try:
        yield lease
    except CancelledSync:
        if not lease.lost:  # a lost lease cancels the run: say why instead of "cancelled"
            raise
    finally:
        _release(lease, cancel)
    if lease.lost:
        raise LeaseLostError(lease.lost)


def _release(lease: Lease, cancel: CancelToken) -> None:
    """Give the lease back. After a cancel S3 may be why (a silent endpoint): wait for the
    release no longer than a cancel's clean-up may take, and leave it to finish, or the lease
    to expire, behind us; a healthy S3 releases it in milliseconds."""
    if not cancel.cancelled:
        lease.release()
        return
    releasing = threading.Thread(target=lease.release, name=f"release {lease.actor}", daemon=True)
    releasing.start()
    releasing.join(AFTER_CANCEL_SECONDS)


def _machine() -> str:
    """This machine: its systemd machine id where there is one, else its host name."""
    try:
        return Path("/etc/machine-id").read_text().strip() or socket.gethostname()
    except OSError:
        return socket.gethostname()
