"""Every sync and restore recorded, one JSON line each, in <root>/.trainsync/history.jsonl.

A `HistoryEntry` stays a dataclass from the run to the edge: `to_json` is the one serialiser
(the history file, the CLI's --json, the API body), `from_json` reads any line ever written
(older lines lack the newer keys: they read as a sync with nothing kept)."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainsync_tui.engine.errors import redact
from trainsync_tui.engine.paths import normalise
from trainsync_tui.engine.run.report import KeptForResume, SyncReport, plural

if TYPE_CHECKING:
    from trainsync_tui.engine.run.restore import RestoreReport

HISTORY_NAME = "history.jsonl"
_KEPT = 20  # errors and conflict paths kept per entry; the counts say how many there were
SYNC = "sync"
RESTORE = "restore"


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded run: a sync (or dry run), or a restore from the trash of sync `stamp`."""

    when: str
    actor: str
    who: str = "?"
    via: str = ""
    kind: str = SYNC
    options: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    conflicts: int = 0
    conflict_paths: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    # An aborted run was cancelled too: readers that only know "cancelled" still see it.
    cancelled: bool = False
    aborted: bool = False
    bytes_uploaded: int = 0
    bytes_downloaded: int = 0
    bytes_resumed: int = 0
    kept: KeptForResume = field(default_factory=KeptForResume)
    # A restore: the sync run whose trash it put back, what came back, what was left.
    stamp: str = ""
    restored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    skipped_count: int = 0

    @property
    def dry_run(self) -> bool:
        return bool(self.options.get("dry_run"))

    @property
    def changes(self) -> int:
        return sum(self.counts.values())

    def result(self) -> str:
        """In words: aborted or cancelled, errors, conflicts, paths left; or ok."""
        parts = []
        if self.aborted:  # given up on (a second Ctrl-C): it may have stopped mid-file
            parts.append("aborted")
        elif self.cancelled:
            parts.append("cancelled")
        if self.error_count:
            parts.append(plural(self.error_count, "error"))
        if self.conflicts:
            parts.append(plural(self.conflicts, "conflict"))
        if self.skipped_count:
            parts.append(f"{self.skipped_count:,} not overwritten")
        return ", ".join(parts) or "ok"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in _OPTIONAL
        }
        if self.kept:
            data["kept_for_resume"] = self.kept.to_json()
        if self.kind == RESTORE:
            data.update(
                stamp=self.stamp,
                restored=self.restored,
                skipped=self.skipped,
                skipped_count=self.skipped_count,
            )
        return data

    @classmethod
    def from_json(cls, data: Any) -> HistoryEntry | None:
        """The entry a history line holds, or None for a line that is not one."""
        if not isinstance(data, dict) or "when" not in data or "actor" not in data:
            return None
        values: dict[str, Any] = {}
        try:
            for f in fields(cls):
                if f.name == "kept":
                    values["kept"] = KeptForResume.from_json(data.get("kept_for_resume"))
                elif data.get(f.name) is not None:
                    values[f.name] = _READ[f.name](data[f.name])
            return cls(**values)
        except (TypeError, ValueError, AttributeError):
            return None


def _strings(items: Any) -> list[str]:
    return [str(i) for i in items]


# How each key of a line becomes its field (a hand-edited or older line may hold any type).
_READ: dict[str, Callable[[Any], Any]] = {
    "when": str,
    "actor": str,
    "who": str,
    "via": str,
    "kind": str,
    "options": dict,
    "counts": lambda d: {str(k): int(v) for k, v in dict(d).items()},
    "errors": _strings,
    "error_count": int,
    "conflicts": int,
    "conflict_paths": _strings,
    "duration_s": float,
    "cancelled": bool,
    "aborted": bool,
    "bytes_uploaded": int,
    "bytes_downloaded": int,
    "bytes_resumed": int,
    "stamp": str,
    "restored": _strings,
    "skipped": _strings,
    "skipped_count": int,
}
# Written only when they say something: a sync's line keeps the keys it always had.
_OPTIONAL = {"kept", "stamp", "restored", "skipped", "skipped_count"}


def user_at_host() -> str:
    """Who ran it, as a person reading the history on a shared server wants to know."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def append_history(state_dir: Path, entry: HistoryEntry) -> None:
    """One O_APPEND write per entry, so concurrent runs never interleave a line."""
    state_dir.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True))
    line = (text + "\n").encode("utf-8")
    fd = os.open(state_dir / HISTORY_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_history(state_dir: Path, actor: str | None = None, limit: int = 200) -> list[HistoryEntry]:
    """Newest first; lines cut short by a crash are skipped. `actor` in any Unicode spelling
    (an actor is its NFC name; older entries may hold the spelling typed)."""
    try:
        lines = (state_dir / HISTORY_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    want = None if actor is None else normalise(actor)
    entries: list[HistoryEntry] = []
    for line in reversed(lines):
        try:
            entry = HistoryEntry.from_json(json.loads(line))
        except ValueError:
            continue
        if entry is None:
            continue
        if want is None or normalise(entry.actor) == want:
            entries.append(entry)
            if len(entries) >= limit:
                break
    return entries


class HistoryLog:
    """Records each sync once: when it ends, or as aborted when its front end gives up on it
    (a second Ctrl-C ends the process before the cancelled run can record itself); and each
    restore when it ends."""

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
        entry = HistoryEntry(
            when=self.now_iso(),
            actor=actor,
            who=self.who,
            via=self.via,
            options=options,
            counts=report.counts.to_json(),
            errors=report.errors[:_KEPT],
            error_count=len(report.errors),
            conflicts=len(report.conflicts),
            conflict_paths=[c.path for c in report.conflicts[:_KEPT]],
            duration_s=round(report.duration, 3),
            cancelled=report.cancelled or aborted,
            aborted=aborted,
            bytes_uploaded=report.bytes_uploaded,
            bytes_downloaded=report.bytes_downloaded,
            bytes_resumed=report.bytes_resumed,
            kept=report.kept,
        )
        self._append(entry)

    def restored(self, report: RestoreReport, duration: float, *, cancelled: bool) -> None:
        """Record a restore that ran (a refused or dry-run one changed nothing: not recorded)."""
        restored = [f"{p} (local)" for p in report.restored_local]
        restored += [f"{p} (S3)" for p in report.restored_s3]
        self._append(
            HistoryEntry(
                when=self.now_iso(),
                actor=report.actor_name,
                who=self.who,
                via=self.via,
                kind=RESTORE,
                counts={
                    "restored_local": len(report.restored_local),
                    "restored_s3": len(report.restored_s3),
                },
                errors=report.errors[:_KEPT],
                error_count=len(report.errors),
                duration_s=round(duration, 3),
                cancelled=cancelled,
                stamp=report.stamp,
                restored=restored[:_KEPT],
                skipped=report.skipped[:_KEPT],
                skipped_count=len(report.skipped),
            )
        )

    def _append(self, entry: HistoryEntry) -> None:
        # A read-only root still syncs: the history is a record, not a requirement.
        with contextlib.suppress(OSError):
            append_history(self.state_dir, entry)
