"""One sync per actor at a time across the CLI, the app and the API of one root: an flock per
actor under the state folder (the S3 lease, for roots sharing a bucket, is s3/lease.py's)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
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
) -> Iterator[str | None]:
    """Hold the actor's lock; busy → LockBusyError naming the holder, or wait for it.

    flock locks belong to the open file, so two holders inside one process conflict too,
    and the kernel releases the lock when a holder dies, even by kill -9.

    Yields the lock's proof (see `_proof`): what a lease written under this very lock says,
    so that a later holder of it knows the lease's run is gone.
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
        yield _proof(os.fstat(fd))
    finally:
        os.close(fd)


def _proof(st: os.stat_result) -> str | None:
    """This lock file on this running kernel: its inode and device, and the boot's random id.

    Whoever holds the flock of the file these name holds it alone, so a lease that names them
    was written by a run that has since ended. Nothing copied names them: a cloned disk or VM
    boots with another id (or mounts the copy as another device), a copied root folder has
    other inodes, and two containers on one host share the lock only where they share the
    file. The machine id and the root's path, which clones keep, prove nothing. Where the
    kernel has no boot id, there is no proof and a lease left behind waits out its TTL.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{boot}:{st.st_dev}:{st.st_ino}" if boot else None


def root_id(state_dir: Path) -> str:
    """The root's own random id, made once and kept in its state folder (`root-id`): it names
    the root in a lease (which run holds it: the lease's token), never proves anything."""
    path = state_dir / "root-id"
    with contextlib.suppress(OSError):
        if known := path.read_text().strip():
            return known
    fresh = uuid.uuid4().hex
    with contextlib.suppress(OSError):
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(fresh + "\n")
        return fresh
    with contextlib.suppress(OSError):  # made by another run meanwhile
        return path.read_text().strip() or fresh
    return fresh  # a read-only root: an id for this run only


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
