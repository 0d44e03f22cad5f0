"""One bandwidth limit that every transfer of a sync draws from (the --bwlimit grammar is
engine/bwlimit.py's).

s3transfer's own BandwidthLimiter is not used: its LeakyBucket takes its rate once, at
TransferManager construction, has no setter, and counts uploads and downloads in one bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from trainsync_tui.engine.bwlimit import BwLimit, Direction, Rates, parse_bwlimit
from trainsync_tui.engine.cancel import CancelToken

# Tokens a bucket may save while idle: enough to smooth the chunk sizes (1 MiB reads), not
# enough to let a burst far past the rate. Never more than a second of the rate: under 256
# KiB/s the floor alone let an idle limiter save minutes of credit, and at 1K a sync of small
# files started after a minute in the app went at 2.4-4 KiB/s (issue 25 item 7).
_BURST_SECONDS = 0.1
_MIN_BURST = 256 * 1024
_MAX_BURST_SECONDS = 1.0


def burst_of(rate: float) -> float:
    """The most a bucket at `rate` bytes/s saves while idle."""
    return min(max(_MIN_BURST, rate * _BURST_SECONDS), rate * _MAX_BURST_SECONDS)


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
        burst = burst_of(self.rate)
        self.tokens = min(burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 0:
            return -self.tokens / self.rate
        self.tokens -= n
        return 0.0


class BandwidthLimiter:
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
    def __init__(
        self, throttle: BandwidthLimiter, direction: Direction, cancel: CancelToken | None
    ):
        self._throttle = throttle
        self._direction = direction
        self._cancel = cancel

    def on_queued(self, **_: Any) -> None:
        pass

    def on_progress(self, bytes_transferred: int, **_: Any) -> None:
        self._throttle.take(self._direction, bytes_transferred, self._cancel)

    def on_done(self, **_: Any) -> None:
        pass
