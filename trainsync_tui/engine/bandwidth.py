"""--bwlimit: rclone's grammar, and one throttle that every transfer of a sync draws from.

Grammar (rclone's `--bwlimit`): a rate is a number with an optional suffix B, K, M, G, T, P
(bytes/s, base 1024; a bare number is KiB/s as in rclone; "Ki"/"KiB" forms too); "off" or
0 is no limit. `UP:DOWN` gives the two directions their own rate (`10M:100M`). A timetable is
space- or semicolon-separated `[Day-]HH:MM,RATE` slots (`08:00,20M 20:00,off`,
`Mon-09:00,512K`); the latest slot at or before now applies, and the last one wraps round.

s3transfer's own BandwidthLimiter is not used: its LeakyBucket takes its rate once, at
TransferManager construction, has no setter, and counts uploads and downloads in one bucket.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import ConfigError

Direction = str  # "up" or "down"
_UNITS = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_RATE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([BKMGTP]?)(?:I?B?)?$", re.IGNORECASE)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
_SLOT = re.compile(r"^(?:([A-Za-z]+)-)?(\d\d):(\d\d),(.+)$")
FORMS = "50M, 10M:100M (up:down), or a timetable like '08:00,20M 20:00,off'"
# Tokens a bucket may save while idle: enough to smooth the chunk sizes (1 MiB reads), not
# enough to let a burst far past the rate.
_BURST_SECONDS = 0.1
_MIN_BURST = 256 * 1024


@dataclass(frozen=True, slots=True)
class Rates:
    """Bytes per second up and down; None is no limit."""

    up: float | None = None
    down: float | None = None

    def of(self, direction: Direction) -> float | None:
        return self.up if direction == "up" else self.down


@dataclass(frozen=True, slots=True)
class BwLimit:
    """A parsed --bwlimit: one rate pair, or slots of (minute of the week, rates)."""

    text: str
    slots: tuple[tuple[int, Rates], ...]

    def rates_at(self, when: datetime) -> Rates:
        if not self.slots:
            return Rates()
        now = when.weekday() * 1440 + when.hour * 60 + when.minute
        current = self.slots[-1][1]  # before the first slot of the week, the last one holds
        for minute, rates in self.slots:
            if minute <= now:
                current = rates
        return current


def _rate(text: str) -> float | None:
    if text.lower() == "off":
        return None
    match = _RATE.match(text)
    if not match:
        raise ValueError(text)
    value = float(match.group(1)) * _UNITS[(match.group(2) or "K").upper()]
    return value or None  # 0 is no limit, as in rclone


def _pair(text: str) -> Rates:
    up, colon, down = text.partition(":")
    return Rates(_rate(up), _rate(down) if colon else _rate(up))


def parse_bwlimit(text: str) -> BwLimit:
    """A --bwlimit value in rclone's form; ConfigError naming the accepted forms otherwise."""
    spec = text.strip()
    try:
        if not spec:
            raise ValueError(spec)
        if " " not in spec and ";" not in spec and "," not in spec:
            return BwLimit(spec, ((0, _pair(spec)),))
        slots: list[tuple[int, Rates]] = []
        for token in re.split(r"[ ;]+", spec):
            match = _SLOT.match(token)
            if not match:
                raise ValueError(token)
            day, hh, mm, rate = match.groups()
            hour, minute = int(hh), int(mm)
            if hour > 23 or minute > 59:
                raise ValueError(token)
            days = range(7) if day is None else (_DAYS.index(day[:3].lower()),)
            if day is not None and day.lower() not in (_DAYS[days[0]], _full_day(days[0])):
                raise ValueError(token)
            for d in days:
                slots.append((d * 1440 + hour * 60 + minute, _pair(rate)))
        return BwLimit(spec, tuple(sorted(slots, key=lambda s: s[0])))
    except ValueError:
        raise ConfigError(f"bwlimit {text!r} is not a valid limit: use {FORMS}") from None


def _full_day(index: int) -> str:
    return ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[index]


class _Bucket:
    """Tokens accrue at `rate`; a taker goes when the bucket is not in debt and may overdraw."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.tokens = 0.0
        self.stamp = 0.0

    def wait_for(self, n: int, now: float) -> float:
        """Draw `n` and return 0, or return the seconds until the debt is paid (no draw)."""
        if self.rate is None:
            return 0.0
        burst = max(_MIN_BURST, self.rate * _BURST_SECONDS)
        self.tokens = min(burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 0:
            return -self.tokens / self.rate
        self.tokens -= n
        return 0.0


class Throttle:
    """The process's bandwidth limit: one bucket per direction, shared by every transfer.

    `take` is called from the read/write loops of every transfer path (our GETs and PUTs,
    and s3transfer's through `subscriber`); `set_rate` changes the limit while they run.
    """

    def __init__(
        self,
        limit: BwLimit | str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._changed = threading.Condition()
        self._buckets = {"up": _Bucket(), "down": _Bucket()}
        self._limit: BwLimit | None = None
        self._minute = -1
        # Bytes drawn per direction while a limit was set (what the bench and tests read).
        self.taken = {"up": 0, "down": 0}
        self.set_rate(limit)

    @property
    def limit(self) -> BwLimit | None:
        return self._limit

    def set_rate(self, limit: BwLimit | str | None) -> None:
        """Change the limit now (None or "off": none); transfers waiting pick it up at once."""
        parsed = parse_bwlimit(limit) if isinstance(limit, str) else limit
        if parsed is not None and all(r == Rates() for _, r in parsed.slots):
            parsed = None  # "off" everywhere: transfers skip the lock entirely
        with self._changed:
            self._limit = parsed
            self._minute = -1
            self._apply(self._clock())
            self._changed.notify_all()

    def _apply(self, now: float) -> None:
        """Set each bucket's rate from the limit at this wall-clock minute."""
        rates = self._limit.rates_at(self._wall()) if self._limit else Rates()
        for direction, bucket in self._buckets.items():
            rate = rates.of(direction)
            if rate != bucket.rate:
                bucket.rate, bucket.tokens, bucket.stamp = rate, 0.0, now

    def wait_for(self, direction: Direction, n: int) -> float:
        """Draw `n` bytes and return 0, or the seconds to wait before asking again."""
        with self._changed:
            now = self._clock()
            if self._limit is not None and len(self._limit.slots) > 1:
                minute = int(now // 60)
                if minute != self._minute:  # the timetable may have moved to its next slot
                    self._minute = minute
                    self._apply(now)
            delay = self._buckets[direction].wait_for(n, now)
            if not delay:
                self.taken[direction] += n
            return delay

    def take(self, direction: Direction, n: int, cancel: CancelToken | None = None) -> None:
        """Block until `n` bytes may go in `direction` (a cancel raises CancelledSync)."""
        if n <= 0 or self._limit is None:
            return
        while True:
            delay = self.wait_for(direction, n)
            if not delay:
                return
            if cancel is not None:
                cancel.raise_if_cancelled()
            with self._changed:
                # Woken early by set_rate; at most a second at a time, so a cancel is prompt.
                self._changed.wait(min(delay, 1.0))

    def subscriber(self, direction: Direction, cancel: CancelToken | None = None) -> Any:
        """An s3transfer subscriber that draws each chunk's bytes as the chunk is read: its
        progress callback runs in the thread that reads the socket or the file."""
        return _Subscriber(self, direction, cancel)


class _Subscriber:
    def __init__(self, throttle: Throttle, direction: Direction, cancel: CancelToken | None):
        self._throttle = throttle
        self._direction = direction
        self._cancel = cancel

    def on_queued(self, **_: Any) -> None:
        pass

    def on_progress(self, bytes_transferred: int, **_: Any) -> None:
        self._throttle.take(self._direction, bytes_transferred, self._cancel)

    def on_done(self, **_: Any) -> None:
        pass
