"""Is a local file still the one the audit listed: the stat checks every transfer makes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from trainsync_tui.engine.errors import TransferError
from trainsync_tui.engine.hashing import FileStamp

_R = TypeVar("_R")


def read_or_fail(path: Path, read: Callable[[], _R]) -> _R:
    """Run `read`; a file that cannot be read gets the audit's words for it."""
    try:
        return read()
    except OSError as exc:
        raise TransferError(f"cannot be read ({exc.strerror or exc})") from None


def stamp_now(path: Path) -> FileStamp | None:
    """The file's stamp now; None once it is gone."""
    try:
        return FileStamp.of(os.stat(path))
    except OSError:
        return None


def unchanged_since_audit(path: Path, size: int, mtime: float, ctime_ns: int = 0) -> os.stat_result:
    """The file's stat, if it still has the size and times the audit listed (a ctime of 0:
    not known)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise TransferError("removed locally since the audit; sync again") from None
    if st.st_size != size or st.st_mtime != mtime or ctime_ns not in (0, st.st_ctime_ns):
        raise TransferError("changed locally since the audit; sync again")
    return st
