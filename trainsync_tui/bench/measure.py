"""Run one command and measure it: wall time, CPU time and peak RSS of the process it starts."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr_tail: str
    timed_out: bool = False


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment minus anything that sends loopback traffic elsewhere, and
    minus PYTHONDONTWRITEBYTECODE: a user's Python keeps its compiled modules, and a shell
    that sets it charged each run of trainsync (an editable install, no .pyc of its own)
    ~0.12 s of compiling that the anchors' pip-installed modules never pay."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in list(env):
        # A CA bundle makes rclone refuse a plain-HTTP endpoint; proxies would leave loopback.
        if name in ("AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL") or name.lower().endswith(
            "_proxy"
        ):
            env.pop(name)
    env.update(extra)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _read_hwm(pid: int) -> float:
    """The process's own peak RSS in MiB (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class _PeakWatcher(threading.Thread):
    """Samples VmHWM, which (unlike wait4's ru_maxrss) does not inherit the parent's size.

    Linux carries the forking process's high-water mark across exec into ru_maxrss, so every
    tool started from this Python would show at least this Python's RSS. VmHWM is the
    high-water mark of the new program's own memory map and only grows, so the last sample
    before exit misses at most the growth of the final 20 ms.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, _read_hwm(self.pid))
            self.done.wait(0.02)


def run(command: list[str], env: dict[str, str], log: Path, timeout: float) -> Timing:
    """Run to the end; CPU comes from wait4(), peak RSS from the process's own VmHWM."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out_path = log.with_suffix(".out")
    err_path = log.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        # Popen returns after the exec, so the watcher sees the tool's memory, not ours.
        watcher = _PeakWatcher(process.pid)
        watcher.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            watcher.done.set()
            watcher.join()
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return Timing(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        peak_rss_mb=watcher.peak or usage.ru_maxrss / 1024,
        returncode=process.returncode,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr_tail="\n".join(stderr.strip().splitlines()[-3:]),
        timed_out=wall >= timeout,
    )
