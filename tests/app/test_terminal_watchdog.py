"""The stdin watchdog of the app's terminal driver: it tells once that stdin is gone (a
terminal hung up, a pipe or a file ended) without reading a key, and after a hang-up the
app's process costs no CPU while it winds down (Textual's reader spun at 40-70%)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainsync_tui.app.terminal import StdinWatchdog

REPORT_SECONDS = 10  # generous for a loaded 2-core box; it takes milliseconds


class Reports:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.told = threading.Event()

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)
        self.told.set()


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def watch(reports: Reports) -> Iterator[list[StdinWatchdog]]:
    started: list[StdinWatchdog] = []
    yield started
    for watchdog in started:
        watchdog.stop()


def _start(watch: list[StdinWatchdog], fd: int, reports: Reports) -> StdinWatchdog:
    watchdog = StdinWatchdog(fd, reports)
    watch.append(watchdog)
    watchdog.start()
    return watchdog


def test_a_terminal_whose_other_side_closes_is_reported_lost(watch, reports) -> None:
    master, slave = os.openpty()
    _start(watch, slave, reports)
    os.close(master)  # sshd or tmux going away
    assert reports.told.wait(REPORT_SECONDS)
    assert reports.reasons == ["terminal lost (hung up)"]
    os.close(slave)


def test_a_live_terminal_with_keys_waiting_is_not_reported_and_keeps_its_keys(
    watch, reports
) -> None:
    master, slave = os.openpty()
    watchdog = _start(watch, slave, reports)
    os.write(master, b"keys\n")  # a line: the pty is in canonical mode here
    assert select.select([slave], [], [], REPORT_SECONDS)[0]  # readable: a poll would see it
    watchdog.stop()  # wakes it at once, however long poll() would wait
    assert not watchdog.is_alive()
    assert reports.reasons == []
    assert os.read(slave, 16) == b"keys\n"  # never read by the watchdog
    os.close(master)
    os.close(slave)


def test_a_pipe_is_reported_closed_only_once_its_keys_are_read(watch, reports) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"sq")
    os.close(write_end)
    _start(watch, read_end, reports)
    assert not reports.told.wait(0.2)  # keys still in the pipe: they are Textual's first
    assert os.read(read_end, 16) == b"sq"
    assert reports.told.wait(REPORT_SECONDS)
    assert reports.reasons == ["terminal input closed"]
    os.close(read_end)


def test_dev_null_and_a_file_read_to_its_end_are_closed_input(watch, reports, tmp_path) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    _start(watch, null, reports)
    assert reports.told.wait(REPORT_SECONDS)
    os.close(null)
    keys = tmp_path / "keys"
    keys.write_bytes(b"sq")
    later = Reports()
    fd = os.open(keys, os.O_RDONLY)
    _start(watch, fd, later)
    assert not later.told.wait(0.3)  # unread keys: not ended
    assert os.read(fd, 16) == b"sq"
    assert later.told.wait(REPORT_SECONDS)
    assert reports.reasons == later.reasons == ["terminal input closed"]
    os.close(fd)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("stdin", ["terminal", "pipe"])
def test_after_stdin_is_gone_the_app_costs_no_cpu(tmp_path: Path, stdin: str) -> None:
    """An app that outlives the hang-up (as the app does while it cancels its sync) must
    not spin: Textual's own reader loops on an ended stdin until it is told to stop."""
    record = tmp_path / "hangups"
    master, slave = os.openpty()
    read_end, write_end = os.pipe()
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    env.pop("TEXTUAL_DRIVER", None)
    probe = subprocess.Popen(
        [sys.executable, "-m", "tests.app.hangup_probe", str(record)],
        stdin=slave if stdin == "terminal" else read_end,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # no controlling terminal: no SIGHUP, only the fd
    )
    os.close(slave)
    os.close(read_end)
    still_open = [master, write_end]
    try:
        drawn = bytearray()
        while b"probe ready" not in drawn:
            assert select.select([master], [], [], 60)[0], "the probe never drew"
            drawn += os.read(master, 65536)
        os.close(still_open.pop(0 if stdin == "terminal" else 1))  # the hang-up
        deadline = time.monotonic() + REPORT_SECONDS
        while not (record.exists() and record.read_text()):
            assert time.monotonic() < deadline, "no Hangup posted"
            assert probe.poll() is None, f"the probe exited ({probe.returncode})"
            time.sleep(0.02)
        before = _cpu_seconds(probe.pid)
        time.sleep(1.0)  # the window measured, not a wait for something to happen
        spent = _cpu_seconds(probe.pid) - before
        # idle: 0.00-0.01 s; Textual's reader spinning got 0.26 s even on a box loaded 9/2
        assert spent < 0.1, f"{spent:.2f} s of CPU in 1 s after the hang-up"
        assert record.read_text().splitlines() == [
            "terminal lost (hung up)" if stdin == "terminal" else "terminal input closed"
        ]
    finally:
        probe.kill()
        probe.wait()
        for fd in still_open:
            os.close(fd)
