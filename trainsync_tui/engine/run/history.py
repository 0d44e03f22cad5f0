"""Every sync recorded, one JSON line each, in <root>/.trainsync/history.jsonl."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainsync_tui.engine.errors import redact
from trainsync_tui.engine.paths import normalise
from trainsync_tui.engine.run.report import SyncReport

HISTORY_NAME = "history.jsonl"
_KEPT = 20  # errors and conflict paths kept per entry; the counts say how many there were


def user_at_host() -> str:
    """Who ran it, as a person reading the history on a shared server wants to know."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def append_history(state_dir: Path, entry: dict[str, Any]) -> None:
    """One O_APPEND write per entry, so concurrent runs never interleave a line."""
    state_dir.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(entry, ensure_ascii=False, sort_keys=True))
    line = (text + "\n").encode("utf-8")
    fd = os.open(state_dir / HISTORY_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_history(
    state_dir: Path, actor: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Newest first; lines cut short by a crash are skipped. `actor` in any Unicode spelling
    (an actor is its NFC name; older entries may hold the spelling typed)."""
    try:
        lines = (state_dir / HISTORY_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    want = None if actor is None else normalise(actor)
    entries: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if want is None or normalise(str(entry.get("actor", ""))) == want:
            entries.append(entry)
            if len(entries) >= limit:
                break
    return entries


class HistoryLog:
    """Records each sync once: when it ends, or as aborted when its front end gives up on it
    (a second Ctrl-C ends the process before the cancelled run can record itself)."""

    def __init__(self, state_dir: Path, via: str, now_iso: Callable[[], str]) -> None:
        self.state_dir = state_dir
        self.via = via
        self.now_iso = now_iso
        self.who = user_at_host()
        self._lock = threading.Lock()
        self._running: dict[int, tuple[str, dict[str, Any], SyncReport, float]] = {}
        self._closed = False

    def begin(self, actor: str, options: dict[str, Any], report: SyncReport) -> None:
        with self._lock:
            self._running[id(report)] = (actor, options, report, time.monotonic())

    def end(self, report: SyncReport) -> None:
        """Record a finished (or cancelled) run, unless it was already recorded as aborted."""
        with self._lock:
            run = self._running.pop(id(report), None)
            if run is None or self._closed:
                return
            self._write(run[0], run[1], report, aborted=False)

    def discard(self, report: SyncReport) -> None:
        with self._lock:
            self._running.pop(id(report), None)

    def abort_running(self) -> int:
        """Record every run still going as aborted, and nothing after; returns how many."""
        with self._lock:
            self._closed = True
            runs, self._running = list(self._running.values()), {}
            for actor, options, report, started in runs:
                report.duration = time.monotonic() - started
                self._write(actor, options, report, aborted=True)
        return len(runs)

    def _write(
        self, actor: str, options: dict[str, Any], report: SyncReport, *, aborted: bool
    ) -> None:
        entry = {
            "when": self.now_iso(),
            "actor": actor,
            "who": self.who,
            "via": self.via,
            "options": options,
            "counts": report.counts.to_json(),
            "errors": report.errors[:_KEPT],
            "error_count": len(report.errors),
            "conflicts": len(report.conflicts),
            "conflict_paths": [c.path for c in report.conflicts[:_KEPT]],
            "duration_s": round(report.duration, 3),
            # An aborted run was cancelled too: readers that only know "cancelled" still see it.
            "cancelled": report.cancelled or aborted,
            "aborted": aborted,
            "bytes_uploaded": report.bytes_uploaded,
            "bytes_downloaded": report.bytes_downloaded,
            "bytes_resumed": report.bytes_resumed,
        }
        # A read-only root still syncs: the history is a record, not a requirement.
        with contextlib.suppress(OSError):
            append_history(self.state_dir, entry)
