"""MD5 speed: trainsync's hasher against `md5sum` on one core, and the audit's over a tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

MB = 1_000_000


def _files(root: Path) -> list[Path]:
    return [Path(folder) / name for folder, _dirs, names in os.walk(root) for name in names]


def _best_of(runs: int, job: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def hash_speed(root: Path, runs: int = 3) -> dict[str, Any]:
    """MB/s of md5sum and of trainsync's md5_file on the biggest file (best of `runs`)."""
    from trainsync_tui.engine.hashing import md5_file

    path = max(_files(root), key=lambda p: p.stat().st_size)
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


def tree_speed(root: Path, runs: int = 3) -> dict[str, Any]:
    """The audit's hasher over every file under `root` (no hash cache), on one thread and on
    the audit's threads; `md5sum` on one process per core over the same files for scale."""
    from trainsync_tui.engine.config import Settings
    from trainsync_tui.engine.hashing import HashCache
    from trainsync_tui.engine.local.scan import scan_local
    from trainsync_tui.engine.run.audit import hash_workers

    files = _files(root)
    size = sum(p.stat().st_size for p in files)
    cpus = os.cpu_count() or 1
    threads = hash_workers(Settings().concurrency)  # at the default --concurrency
    found: dict[str, Any] = {"files": len(files), "mb": round(size / MB, 1), "threads": threads}
    for label, workers in (("one_thread", 1), ("threads", threads)):

        def scan(w: int = workers) -> None:
            scan_local(root, HashCache(None), rehash=True, workers=w)

        took = _best_of(runs, scan)
        found[f"{label}_files_s"] = round(len(files) / took)
        found[f"{label}_mb_s"] = round(size / MB / took, 1)
    found["cores_used"] = round(found["threads_mb_s"] / found["one_thread_mb_s"], 2)
    md5sum = shutil.which("md5sum")
    if md5sum:
        # Dealt by size, so each process gets a fair share of the big files.
        by_size = sorted(files, key=lambda p: -p.stat().st_size)
        groups = [[str(p) for p in by_size[i::cpus]] for i in range(min(cpus, len(files)))]

        def md5sums() -> None:
            running = [subprocess.Popen([md5sum, *g], stdout=subprocess.DEVNULL) for g in groups]
            for process in running:
                process.wait()

        found["md5sum_files_s"] = round(len(files) / _best_of(runs, md5sums))
        found["md5sum_processes"] = len(groups)
    return found
