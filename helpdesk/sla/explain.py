"""A clock's due time as lines a person can check by hand (pure).

Thu 18 Jun 15:00 started · counted 15:00–17:00 = 2 h · Fri 19 Jun closed:
Midsommarafton · Sat–Sun closed: weekend · paused 2 h 10 min waiting for the
requester · … The lines add up to the counted business time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk.sla.calendar import BusinessCalendar, closed_reason, open_intervals
from helpdesk.sla.clock_math import (
    PAUSED,
    RECOMPUTED,
    RESUMED,
    STARTED,
    STOPPED,
    Mark,
    us,
)

MAX_DAY_LINES = 40  # a clock that ran for months shows its first weeks, then a summary
COUNTED, MORE = "counted", "more"
COUNTED_THEN = "counted_then"  # counted on a calendar that has changed since


@dataclass(frozen=True)
class Line:
    kind: str  # started, counted, counted_then, closed, paused, resumed, recomputed, stopped, more
    start: datetime  # local time
    end: datetime | None = None  # local time
    business_us: int = 0
    reason: str | None = None


def explain(marks: Sequence[Mark], calendar: BusinessCalendar, now: datetime) -> list[Line]:
    """The lines of a clock's history up to ``now``; they add up to what ``replay`` counts.

    A stretch counted on a calendar that has changed since (a holiday added, office hours
    edited) is one line of what was counted then, as recorded in the history: today's
    calendar would tell it differently, and the clock does not count it again."""
    zone = ZoneInfo(calendar.timezone)
    lines: list[Line] = []
    segment: datetime | None = None
    paused_since: datetime | None = None
    elapsed = 0  # counted before the running segment, as replay counts it
    for mark in [*marks, Mark("now", now)]:
        if segment is not None and mark.kind in (PAUSED, STOPPED, RECOMPUTED, "now"):
            stretch = _segment_lines(segment, mark.at, calendar, zone)
            told = sum(line.business_us for line in stretch if line.kind in (COUNTED, MORE))
            recorded = None if mark.elapsed_us is None else mark.elapsed_us - elapsed
            if recorded is not None and recorded != told:
                stretch = [Line(COUNTED_THEN, segment.astimezone(zone), mark.at.astimezone(zone),
                                recorded)]
            lines.extend(stretch)
            elapsed += told if recorded is None else recorded
            segment = None if mark.kind in (PAUSED, STOPPED) else mark.at
        elif mark.kind == RECOMPUTED and mark.elapsed_us is not None:
            elapsed = mark.elapsed_us  # a paused clock's new target or calendar
        if mark.kind in (STARTED, RESUMED):
            if paused_since is not None:
                lines.append(_pause(marks, paused_since, mark.at, zone))
                paused_since = None
            segment = mark.at
            lines.append(Line(mark.kind, mark.at.astimezone(zone)))
        elif mark.kind == PAUSED:
            paused_since = mark.at
        elif mark.kind in (STOPPED, RECOMPUTED):
            # A clock stopped while paused (a reply that asks the requester something,
            # a ticket resolved while waiting for them) ends its pause there.
            if mark.kind == STOPPED and paused_since is not None:
                if mark.at > paused_since:
                    lines.append(_pause(marks, paused_since, mark.at, zone))
                paused_since = None
            lines.append(Line(mark.kind, mark.at.astimezone(zone), reason=mark.reason))
        elif mark.kind == "now" and paused_since is not None:
            lines.append(_pause(marks, paused_since, None, zone))
    return lines


def _pause(marks: Sequence[Mark], since: datetime, until: datetime | None,
           zone: ZoneInfo) -> Line:
    return Line(PAUSED, since.astimezone(zone), until.astimezone(zone) if until else None,
                reason=_paused_reason(marks, since))


def _paused_reason(marks: Sequence[Mark], at: datetime) -> str | None:
    return next((m.reason for m in marks if m.kind == PAUSED and m.at == at), None)


def _segment_lines(start: datetime, end: datetime, calendar: BusinessCalendar,
                   zone: ZoneInfo) -> list[Line]:
    """Per local day of a running segment: the open stretches counted, or why it was closed."""
    if end <= start:
        return []
    # Each open stretch, cut at local midnights, with its length in real (UTC) time:
    # local wall-clock subtraction would be an hour off across a DST change.
    by_day: dict[date, list[tuple[datetime, datetime, int]]] = {}
    for a, b in open_intervals(start, end, calendar):
        while a < b:
            local_a = a.astimezone(zone)
            next_midnight = datetime.combine(local_a.date() + timedelta(days=1),
                                             datetime.min.time(), zone).astimezone(UTC)
            piece_end = min(b, next_midnight)
            by_day.setdefault(local_a.date(), []).append(
                (local_a, piece_end.astimezone(zone), us(piece_end - a)))
            a = piece_end
    lines: list[Line] = []
    day, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    closed_run: Line | None = None
    shown = 0
    while day <= last:
        if day in by_day:
            if closed_run:
                lines.append(closed_run)
                closed_run = None
            for a, b, length in by_day[day]:
                if shown < MAX_DAY_LINES:
                    lines.append(Line("counted", a, b, length))
                shown += 1
        elif shown < MAX_DAY_LINES and (why := closed_reason(day, calendar)) is not None:
            moment = datetime.combine(day, datetime.min.time(), zone)
            if closed_run and closed_run.reason == why:
                closed_run = Line("closed", closed_run.start, moment, reason=why)
            else:
                if closed_run:
                    lines.append(closed_run)
                closed_run = Line("closed", moment, moment, reason=why)
        day += timedelta(days=1)
    if closed_run:
        lines.append(closed_run)
    if shown > MAX_DAY_LINES:
        rest = sum(length for spans in by_day.values() for _, _, length in spans) - sum(
            line.business_us for line in lines if line.kind == "counted")
        lines.append(Line("more", start.astimezone(zone), end.astimezone(zone), rest))
    return lines
