"""One sync per actor at a time across the CLI, the app and the API of one root: an flock per
actor under the state folder (the S3 lease, for roots sharing a bucket, is s3/lease.py's)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import LockBusyError


def _describe_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f"{info.get('who', 'trainsync')} (pid {info.get('pid')} on {info.get('host')})"
    except (OSError, ValueError):
        return "another trainsync run"


@contextlib.contextmanager
def actor_lock(
    state_dir: Path,
    actor_name: str,
    who: str,
    *,
    wait: bool = False,
    cancel: CancelToken | None = None,
) -> Iterator[None]:
    """Hold the actor's lock; busy → LockBusyError naming the holder, or wait for it.

    flock locks belong to the open file, so two holders inside one process conflict too,
    and the kernel releases the lock when a holder dies, even by kill -9.
    """
    folder = state_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{actor_name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _describe_holder(path)
                if not wait:
                    raise LockBusyError(
                        f"{actor_name} is already being synced by {holder}; "
                        "wait for it to finish (or pass --wait)",
                        holder,
                    ) from None
                if cancel is not None and cancel.wait(0.2):
                    cancel.raise_if_cancelled()
                elif cancel is None:
                    time.sleep(0.2)
        info = {"who": who, "pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        yield
    finally:
        os.close(fd)


def lock_holder(state_dir: Path, actor_name: str) -> str | None:
    """Who holds the actor's lock right now, or None when it is free."""
    path = state_dir / "locks" / f"{actor_name}.lock"
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _describe_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
