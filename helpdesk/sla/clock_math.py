"""What a clock's history adds up to (pure: no Flask, no database).

A clock runs in segments: started or resumed, then paused or stopped. The
business time counted in finished segments is ``elapsed``; the running segment
started at ``segment_start``. From those two numbers and the target follow the
due time and the warning time, and the same arithmetic replays a history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.sla.calendar import BusinessCalendar, add_business_time, business_time_between

STARTED, PAUSED, RESUMED, STOPPED, RECOMPUTED = (
    "started", "paused", "resumed", "stopped", "recomputed")


def us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def duration(micros: int) -> timedelta:
    return timedelta(microseconds=micros)


def counted(elapsed_us: int, segment_start: datetime | None, now: datetime,
            calendar: BusinessCalendar) -> int:
    """Business time used so far, including the running segment up to ``now``."""
    if segment_start is None:
        return elapsed_us
    return elapsed_us + us(business_time_between(segment_start, now, calendar))


@dataclass(frozen=True)
class Schedule:
    due_at: datetime
    warn_at: datetime


def schedule(elapsed_us: int, segment_start: datetime, target_us: int, warning_percent: int,
             calendar: BusinessCalendar) -> Schedule:
    """When a running clock falls due, and when it should warn.

    A target already used up (a priority raised late) is due at once: at the
    start of the running segment, which is when the change was made.
    """
    left = max(0, target_us - elapsed_us)
    warn_left = max(0, target_us * warning_percent // 100 - elapsed_us)
    return Schedule(
        due_at=add_business_time(segment_start, duration(left), calendar),
        warn_at=add_business_time(segment_start, duration(warn_left), calendar),
    )


@dataclass(frozen=True)
class Mark:
    """One line of a clock's history: what happened and when."""

    kind: str  # STARTED, PAUSED, RESUMED, STOPPED or RECOMPUTED
    at: datetime
    target_us: int | None = None  # the target from this moment on (started, recomputed)
    reason: str | None = None  # e.g. the workflow state that paused the clock
    # What had been counted at this moment, as recorded then (on PAUSED, STOPPED and
    # RECOMPUTED): time before a calendar change was counted on the old calendar, which
    # replaying on today's calendar cannot know.
    elapsed_us: int | None = None


@dataclass(frozen=True)
class Replay:
    elapsed_us: int
    segment_start: datetime | None
    target_us: int
    paused_us: int  # real time spent paused


def replay(marks: Sequence[Mark], calendar: BusinessCalendar) -> Replay:
    """Add up a history; the clock row must always equal this (a tested invariant)."""
    elapsed, segment, target, paused_us = 0, None, 0, 0
    paused_since: datetime | None = None
    for mark in marks:
        if mark.target_us is not None:
            target = mark.target_us
        if mark.kind in (STARTED, RESUMED):
            if paused_since is not None:
                paused_us += us(mark.at - paused_since)
                paused_since = None
            segment = mark.at
        elif mark.kind in (PAUSED, STOPPED) and segment is not None:
            # What was counted then, on the calendar in force then, is what counts: a
            # holiday added later must not rewrite a stopped clock's past.
            elapsed = (mark.elapsed_us if mark.elapsed_us is not None
                       else elapsed + us(business_time_between(segment, mark.at, calendar)))
            segment = None
            if mark.kind == PAUSED:
                paused_since = mark.at
        elif mark.kind == RECOMPUTED:
            # A new calendar or target counts from here; what was counted stays counted.
            if mark.elapsed_us is not None:
                elapsed = mark.elapsed_us
            elif segment is not None:
                elapsed += us(business_time_between(segment, mark.at, calendar))
            if segment is not None:
                segment = mark.at
    return Replay(elapsed, segment, target, paused_us)
