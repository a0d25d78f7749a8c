"""Open time laid out on the UTC line, one table per UTC year.

Why: business-time arithmetic must not walk minute by minute or day by day (a 30-day
target would cost thousands of steps). Here a year's open time is turned, once, into
sorted integer intervals (epoch microseconds) with running totals, so any question about
it is a binary search. Local wall-clock hours become UTC instants by *membership*: an
instant is open when its wall-clock time, on its local date, lies in that date's hours
(see ``helpdesk.sla.calendar`` for why). Tables are per UTC year, not per local year, so
they never overlap, whatever a zone does around New Year.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_US = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# A local date's open hours as wall-clock microseconds of that day, ``end`` up to DAY_US.
DayHours = Callable[[date], tuple[tuple[int, int], ...]]


@dataclass(frozen=True, slots=True)
class YearTable:
    """Open time of one UTC year ``[start, stop)``: sorted, disjoint, non-touching intervals
    in epoch µs; ``totals[i]`` is the open time from ``start`` to ``ends[i]``."""

    start: int
    stop: int
    starts: list[int]
    ends: list[int]
    totals: list[int]

    @property
    def total(self) -> int:
        return self.totals[-1] if self.totals else 0

    def position(self, moment: int) -> int:
        """Open time between the year's start and ``moment`` (clamped to the year)."""
        i = bisect_right(self.starts, moment)
        return self.totals[i - 1] - max(0, self.ends[i - 1] - moment) if i else 0


def build_year(year: int, timezone: str, hours_of: DayHours) -> YearTable:
    """Lay out the open time of UTC year ``year`` for a calendar whose days ``hours_of`` gives."""
    if not 2 <= year <= 9997:
        raise ValueError(f"year {year} is outside the supported range 2–9997")
    start, stop = day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))
    segments = _offset_segments(timezone, year)
    pieces = []
    # The local dates whose open time can reach this UTC year (offsets stay within ±26 h).
    day, last = date(year - 1, 12, 29), date(year + 1, 1, 3)
    while day <= last:
        base = day_start(day)
        for opens, closes in hours_of(day):
            for seg_start, seg_end, offset in segments:
                # Within a stretch of constant offset, wall = utc + offset, so the instants
                # whose wall clock lies in [opens, closes) are simply shifted by -offset.
                lo = max(base + opens - offset, seg_start, start)
                hi = min(base + closes - offset, seg_end, stop)
                if lo < hi:
                    pieces.append((lo, hi))
        day += timedelta(days=1)
    starts: list[int] = []
    ends: list[int] = []
    totals: list[int] = []
    for lo, hi in sorted(pieces):
        if ends and ends[-1] == lo:
            ends[-1] = hi
            totals[-1] += hi - lo
        else:
            starts.append(lo)
            ends.append(hi)
            totals.append((totals[-1] if totals else 0) + hi - lo)
    return YearTable(start, stop, starts, ends, totals)


@lru_cache(maxsize=256)
def _offset_segments(timezone: str, year: int) -> tuple[tuple[int, int, int], ...]:
    """Stretches of constant UTC offset around a UTC year: (start µs, end µs, offset µs).

    zoneinfo does not publish its transitions, so they are found by sampling the offset
    every 6 hours and bisecting to the second where it changes (no zone changes its offset
    and back within 6 hours).
    """
    zone = ZoneInfo(timezone)

    def offset(second: int) -> int:
        return micros(datetime.fromtimestamp(second, zone).utcoffset() or timedelta(0))

    lo = day_start(date(year, 1, 1)) // 1_000_000 - 5 * 86_400
    hi = day_start(date(year + 1, 1, 1)) // 1_000_000 + 5 * 86_400
    segments, seg_start, current, second = [], lo, offset(lo), lo
    while second < hi:
        probe = min(second + 6 * 3600, hi)
        if offset(probe) == current:
            second = probe
            continue
        before, after = second, probe  # offset(before) == current != offset(after)
        while after - before > 1:
            middle = (before + after) // 2
            before, after = (middle, after) if offset(middle) == current else (before, middle)
        segments.append((seg_start * 1_000_000, after * 1_000_000, current))
        seg_start, current, second = after, offset(after), after
    segments.append((seg_start * 1_000_000, hi * 1_000_000, current))
    return tuple(segments)


def instant(moment: datetime, what: str) -> int:
    """An aware datetime as epoch µs; naive ones are refused, as their zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment!r}")
    return micros(moment - EPOCH)


def micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_datetime(moment: int) -> datetime:
    return EPOCH + timedelta(microseconds=moment)


def utc_year(moment: int) -> int:
    return date.fromordinal(_EPOCH_ORDINAL + moment // DAY_US).year


def day_start(day: date) -> int:
    """Midnight of ``day`` as epoch µs, read as UTC (for a local date: its wall-clock base)."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_US
