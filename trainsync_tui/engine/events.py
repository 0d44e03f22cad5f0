"""Typed events the engine emits; front ends turn them into widgets, lines or JSON."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    actor: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["event"] = _snake(type(self).__name__)
        return data


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@dataclass(frozen=True, slots=True)
class Stage(Event):
    """A phase began: "scan", "hash", "list", "plan", "transfer", "manifest", "done"."""

    stage: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ScanProgress(Event):
    """Listing or hashing progress; `total` is 0 where it is not known yet."""

    source: str
    done: int
    total: int = 0
    bytes_done: int = 0


@dataclass(frozen=True, slots=True)
class FileStarted(Event):
    path: str
    category: str
    size: int


@dataclass(frozen=True, slots=True)
class FileDone(Event):
    """An action finished; `message` is the log line ("uploaded images/0001.png")."""

    path: str
    category: str
    size: int
    message: str


@dataclass(frozen=True, slots=True)
class FileFailed(Event):
    path: str
    category: str
    error: str


@dataclass(frozen=True, slots=True)
class Progress(Event):
    """Overall sync progress; emitted at most a few times a second.

    `bytes_done` counts bytes kept from an earlier, interrupted run as done the moment a
    transfer resumes; `bytes_resumed` is how many of them so far, so a speed is the bytes
    moved (`bytes_moved`), never the kept ones (issue 25: "80 MiB/s" under --bwlimit 10M).
    """

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float
    current: str = ""
    bytes_resumed: int = 0

    @property
    def bytes_moved(self) -> int:
        return max(self.bytes_done - self.bytes_resumed, 0)

    @property
    def rate(self) -> float:
        """Bytes moved a second since the start (resumed bytes are not speed)."""
        return self.bytes_moved / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        if rate <= 0 or self.bytes_total <= self.bytes_done:
            return None
        return (self.bytes_total - self.bytes_done) / rate


@dataclass(frozen=True, slots=True)
class Message(Event):
    """Anything else worth a log line; level is "info", "warning" or "error"."""

    level: str
    text: str


EventSink = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The sink used when nobody listens."""


class ProgressThrottle:
    """The one throttling sink of every front end: the CLI's progress line, the API's
    stream and the app's messages.

    Per event (`emit`): every event passes at once, except Progress and ScanProgress, of
    which at most one per (kind, actor, source) every `interval` seconds; the latest one held
    back goes out before the next Stage event and on `flush()`, so each stage ends with its
    final numbers, in order. In batches (`batches`, the app: one message per redraw): events
    are held and handed on together at most once every `interval`, in order, with only the
    latest Progress/ScanProgress of each key kept; nothing else is dropped.

    Progress gets the path of the file that started last as `current`. Thread-safe: the
    engine's threads call it.
    """

    def __init__(
        self,
        emit: EventSink | None = None,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        *,
        batches: Callable[[list[Event]], None] | None = None,
    ) -> None:
        if (emit is None) == (batches is None):
            raise TypeError("ProgressThrottle takes one of emit or batches")
        self._emit = emit
        self._batches = batches
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[type, str, str], float] = {}
        self._pending: dict[tuple[type, str, str], Event] = {}
        self._held: list[Event | tuple[type, str, str]] = []  # batches: events, progress keys
        self._current: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, FileStarted):
            self._current[event.actor] = event.path
        elif isinstance(event, Progress) and not event.current:
            event = replace(event, current=self._current.get(event.actor, ""))
        if self._batches is not None:
            self._hold(event)
            return
        if isinstance(event, Progress | ScanProgress):
            key = _key(event)
            with self._lock:
                now = self._clock()
                if now - self._last.get(key, float("-inf")) < self._interval:
                    self._pending[key] = event
                    return
                self._last[key] = now
                self._pending.pop(key, None)
        elif isinstance(event, Stage):
            self.flush()
        assert self._emit is not None
        self._emit(event)

    def _hold(self, event: Event) -> None:
        assert self._batches is not None
        with self._lock:
            if isinstance(event, Progress | ScanProgress):
                key = _key(event)
                if key not in self._pending:
                    self._held.append(key)  # its place in the order; the latest fills it
                self._pending[key] = event
            else:
                self._held.append(event)
            now = self._clock()
            if now - self._last.get((Event, "", ""), float("-inf")) < self._interval:
                return
            self._last[(Event, "", "")] = now
            batch = self._take()
        self._batches(batch)

    def _take(self) -> list[Event]:
        """Held events in order (caller holds the lock)."""
        held, self._held = self._held, []
        pending, self._pending = self._pending, {}
        return [pending[e] if isinstance(e, tuple) else e for e in held]

    def flush(self) -> None:
        """Send what is held back (a run's end calls this)."""
        with self._lock:
            if self._batches is not None:
                batch = self._take()
            else:
                pending, self._pending = list(self._pending.values()), {}
        if self._batches is not None:
            if batch:
                self._batches(batch)
            return
        assert self._emit is not None
        for event in pending:
            self._emit(event)


def _key(event: Progress | ScanProgress) -> tuple[type, str, str]:
    return (type(event), event.actor, getattr(event, "source", ""))
