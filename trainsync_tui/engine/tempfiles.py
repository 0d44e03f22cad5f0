"""The run's temporary files: where a download lands before its rename, and their clean-up."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

from trainsync_tui.engine.paths import TEMP_PREFIX


def temp_path(folder: Path) -> Path:
    return folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"


def remove_temp_files(folder: Path) -> None:
    """Delete temp files left by a killed run (only while holding the actor lock)."""
    if not folder.is_dir():
        return
    for stale in folder.iterdir():
        if stale.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                stale.unlink()
