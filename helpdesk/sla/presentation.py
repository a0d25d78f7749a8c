"""A ticket's clocks as people read them: due, remaining, and the lines behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.sla import clock_math
from helpdesk.sla.clocks import business_calendar, remaining
from helpdesk.sla.explain import Line, explain
from helpdesk.sla.models import SlaClock
from helpdesk.tickets.models import Ticket

CLOCK_EVENT_PREFIX = "sla_clock_"


@dataclass(frozen=True)
class ClockView:
    clock: SlaClock
    remaining: timedelta
    counted_us: int
    lines: list[Line]


def marks_for(ticket: Ticket, clock: SlaClock) -> list[clock_math.Mark]:
    """The clock's history, read back from the ticket's events."""
    marks = []
    for event in ticket.events:
        if not event.kind.startswith(CLOCK_EVENT_PREFIX) or event.details.get("clock_id") != clock.id:
            continue
        kind = event.kind[len(CLOCK_EVENT_PREFIX):]
        marks.append(clock_math.Mark(
            kind, event.at,
            target_us=event.details.get("target_us") if kind in (
                clock_math.STARTED, clock_math.RECOMPUTED) else None,
            reason=event.reason,
            elapsed_us=event.details.get("elapsed_us"),
        ))
    return marks


def clock_views(ticket: Ticket, now: datetime) -> list[ClockView]:
    views = []
    for clock in ticket.clocks:
        calendar = business_calendar(clock.calendar)
        counted = clock_math.counted(clock.elapsed_us, clock.segment_started_at, now, calendar)
        views.append(ClockView(clock, remaining(clock, now), counted,
                               explain(marks_for(ticket, clock), calendar, now)))
    return views
