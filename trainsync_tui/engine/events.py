"""Typed events the engine emits; front ends turn them into widgets, lines or JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
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
    """Overall sync progress; emitted at most a few times a second."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float
    current: str = ""

    @property
    def rate(self) -> float:
        return self.bytes_done / self.elapsed if self.elapsed > 0 else 0.0

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
