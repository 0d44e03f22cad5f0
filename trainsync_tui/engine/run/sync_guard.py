"""Hold an actor for a sync: this root's flock (local/flock.py), then the actor's lease in S3
(s3/lease.py), so one sync per actor runs across the CLI, the app, the API and every root
sharing the bucket."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import CancelledSync, LeaseLostError, TrainsyncError
from trainsync_tui.engine.events import EventSink, Message
from trainsync_tui.engine.local.flock import actor_lock, root_id
from trainsync_tui.engine.s3.client import classify
from trainsync_tui.engine.s3.lease import Lease, lease_key


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
    of one root and only one of them asks S3). The lease is taken with the flock held, whose
    proof it records, so a lease found then that names the same proof was left by a run that
    died, and is taken over at once.

    Raises LockBusyError naming the holder, a classified S3 error, or LeaseLostError at the
    end when another server took the lease over meanwhile.
    """

    def warn(text: str) -> None:
        sink(Message(layout.name, "warning", text))

    with actor_lock(settings.state_dir, layout.name, who, wait=wait, cancel=cancel) as proof:
        writer = run_client() if run_client else client()
        lease = Lease(
            client(), settings.require_bucket(), lease_key(layout.prefix), layout.name,
            endpoint=settings.endpoint_url, who=who, ttl=settings.lease_ttl, cancel=cancel,
            warn=warn, waiting=lambda text: sink(Message(layout.name, "info", text)),
            lock_proof=proof, root_id=root_id(settings.state_dir), run_client=writer,
        )  # fmt: skip
        try:
            lease.acquire(wait=wait)
        except TrainsyncError:
            raise
        except Exception as exc:
            raise classify(exc, settings) from None
        if lease.took_over:
            warn(f"took over {lease.took_over}")

        def fence(event_name: str, **_: Any) -> None:
            lease.fence(event_name.rsplit(".", 1)[-1])

        # Every attempt of every write the run makes (not the lease's own, on `client`).
        writer.meta.events.register("before-send.s3", fence)
        try:
            yield
        except CancelledSync:
            if not lease.lost:  # a lost lease cancels the run: say why instead of "cancelled"
                raise
        finally:
            writer.meta.events.unregister("before-send.s3", fence)
            _release(lease, cancel)
        if lease.lost:
            raise LeaseLostError(lease.lost)


# After a cancel, how long giving the lease back may delay the stop: a healthy S3 deletes it
# in milliseconds; a silent one would eat the second a stop is promised in, and then the
# lease only expires (lease_ttl) for the next run, which waits or takes it over.
RELEASE_AFTER_CANCEL_SECONDS = 0.2


def _release(lease: Lease, cancel: CancelToken) -> None:
    """Give the lease back. After a cancel S3 may be why (a silent endpoint): wait for the
    release at most RELEASE_AFTER_CANCEL_SECONDS, and leave it to finish, or the lease to
    expire, behind us."""
    if not cancel.cancelled:
        lease.release()
        return
    releasing = threading.Thread(target=lease.release, name=f"release {lease.actor}", daemon=True)
    releasing.start()
    releasing.join(RELEASE_AFTER_CANCEL_SECONDS)
