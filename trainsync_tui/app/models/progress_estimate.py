"""Speed and ETA of one sync from its recent progress, not its average since the start.

The engine's `Progress.rate` is bytes done over the whole run, so bytes kept from an earlier
run (counted done at once when a transfer resumes) read as speed for the rest of the run,
and an ETA from bytes alone says "0s" while thousands of small files remain (issue 25).
Here the speed is the bytes moved in the last few seconds, less any bytes the engine says
were resumed, and the ETA is the longer of the bytes left at that speed and the files left
at the seconds per file measured in this run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from trainsync_tui.engine.events import Progress

WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class Estimate:
    rate: float  # bytes a second moved lately; 0 before anything moved
    eta: float | None  # seconds; None while there is nothing to judge it by


@dataclass(frozen=True)
class _Sample:
    at: float
    moved: int  # bytes done less bytes resumed
    files: int


class ProgressEstimate:
    """Fed each `Progress` of one sync in order; its clock is the event's `elapsed`."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[_Sample] = deque()
        self._first: _Sample | None = None

    def update(self, progress: Progress, resumed: int | None = None) -> Estimate:
        """`resumed`: bytes counted done so far that no transfer moved (kept from a run
        before), by default the engine's running `progress.bytes_resumed`; they are neither
        speed nor time."""
        if resumed is None:
            resumed = progress.bytes_resumed
        sample = _Sample(progress.elapsed, progress.bytes_done - resumed, progress.files_done)
        if self._first is None:
            self._first = sample
        samples = self._samples
        samples.append(sample)
        while len(samples) > 2 and samples[1].at <= sample.at - self.window:
            samples.popleft()  # keep one sample at or before the window's start
        oldest = samples[0]
        span = sample.at - oldest.at
        rate = max(sample.moved - oldest.moved, 0) / span if span > 0 else 0.0
        return Estimate(rate, self._eta(progress, rate, sample))

    def _eta(self, progress: Progress, rate: float, now: _Sample) -> float | None:
        bytes_left = max(progress.bytes_total - progress.bytes_done, 0)
        files_left = max(progress.files_total - progress.files_done, 0)
        if not bytes_left and not files_left:
            return 0.0
        by_bytes = bytes_left / rate if rate > 0 else None
        by_files = files_left * per_file if (per_file := self._per_file(now)) else None
        known = [t for t in (by_bytes, by_files) if t is not None]
        if not known:
            return None
        # Work remains: never "0s" (a rounding of a few milliseconds, or files the bytes
        # estimate cannot see).
        return max(max(known), 1.0)

    def _per_file(self, now: _Sample) -> float | None:
        """Seconds per file in this run: lately if files finished in the window, else
        since the first sample (one big file can fill the whole window)."""
        for base in (self._samples[0], self._first):
            if base is not None and now.files > base.files and now.at > base.at:
                return (now.at - base.at) / (now.files - base.files)
        return None
