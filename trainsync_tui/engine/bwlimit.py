"""--bwlimit: rclone's grammar, parsed into plain values (the limiter is transfer/bandwidth.py's).

Grammar (rclone's `--bwlimit`): a rate is a number with an optional suffix B, K, M, G, T, P
(bytes/s, base 1024; a bare number is KiB/s as in rclone; "Ki"/"KiB" forms too); "off" or
0 is no limit. `UP:DOWN` gives the two directions their own rate (`10M:100M`). A timetable is
space- or semicolon-separated `[Day-]HH:MM,RATE` slots (`08:00,20M 20:00,off`,
`Mon-09:00,512K`); the latest slot at or before now applies, and the last one wraps round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from trainsync_tui.engine.errors import ConfigError

Direction = str  # "up" or "down"
_UNITS = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_RATE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([BKMGTP]?)(?:I?B?)?$", re.IGNORECASE)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
_SLOT = re.compile(r"^(?:([A-Za-z]+)-)?(\d\d):(\d\d),(.+)$")
FORMS = "50M, 10M:100M (up:down), or a timetable like '08:00,20M 20:00,off'"


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
