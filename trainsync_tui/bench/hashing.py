"""MD5 speed on one core: trainsync's file hasher against `md5sum`, on a page-cached file."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

MB = 1_000_000


def _biggest(root: Path) -> Path:
    best, size = root, -1
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if (n := path.stat().st_size) > size:
                best, size = path, n
    return best


def _best_of(runs: int, job: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def hash_speed(root: Path, runs: int = 3) -> dict[str, Any]:
    """MB/s of md5sum and of trainsync's md5_file on the same file (best of `runs`)."""
    from trainsync_tui.engine.hashing import md5_file

    path = _biggest(root)
    size = path.stat().st_size
    found: dict[str, Any] = {"file_mb": round(size / MB, 1)}
    ours = _best_of(runs, lambda: md5_file(path))
    found["trainsync_mb_s"] = round(size / MB / ours, 1)
    md5sum = shutil.which("md5sum")
    if md5sum:
        theirs = _best_of(
            runs, lambda: subprocess.run([md5sum, str(path)], check=True, capture_output=True)
        )
        found["md5sum_mb_s"] = round(size / MB / theirs, 1)
        found["ratio"] = round(theirs / ours, 2)  # trainsync speed as a share of md5sum's
    return found
