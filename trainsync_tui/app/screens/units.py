"""Sizes and ages as people read them; every screen formats numbers the same way."""

from __future__ import annotations

import humanize


def size(n: float) -> str:
    return humanize.naturalsize(n, binary=True)


def age(timestamp: float, now: float) -> str:
    """Like "2 hours ago"; a clock ahead of `now` (another machine's) reads "from now"."""
    delta = now - timestamp
    return humanize.naturaltime(abs(delta), future=delta < 0)


def share(part: float) -> str:
    return f"{part:.0%}"
