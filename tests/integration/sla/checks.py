"""What must hold for every clock on every ticket, whatever happened to it.

A clock row keeps ``elapsed_us``, ``segment_started_at`` and ``target_us`` so the sweep
never replays history; the ticket page explains the clock from the history (TicketEvents).
If the two ever disagree, the page and the sweep tell different stories.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from helpdesk.extensions import db
from helpdesk.sla import clock_math
from helpdesk.sla.clocks import business_calendar
from helpdesk.sla.models import SLA_METRICS, ClockStatus, SlaClock
from helpdesk.sla.presentation import marks_for
from helpdesk.tickets.models import Ticket

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = 3_600_000_000
MINUTE = 60_000_000


def sthlm(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A Stockholm wall-clock time in 2026 (the ``now`` fixture is Tue 10 March 10:00)."""
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


def clock(ticket: Ticket, metric: str, group_id: int | None = None) -> SlaClock:
    """The ticket's newest clock of ``metric`` (and group)."""
    found = [c for c in ticket.clocks if c.metric.value == metric
             and (group_id is None or c.group_id == group_id)]
    assert found, f"no {metric} clock: {[(c.metric.value, c.group_id) for c in ticket.clocks]}"
    return found[-1]


def assert_clocks_consistent(ticket: Ticket, *, summary: bool = True) -> None:
    """Every clock row equals the replay of its history; the ticket's summary follows.

    ``summary=False`` leaves out ``sla_due_at``/``sla_state``.
    """
    db.session.flush()
    db.session.expire_all()  # read back what the database holds, not what is in memory
    for c in ticket.clocks:
        calendar = business_calendar(c.calendar)
        replayed = clock_math.replay(marks_for(ticket, c), calendar)
        where = f"{c.metric.value} clock {c.id}"
        assert replayed.elapsed_us == c.elapsed_us, where
        assert replayed.segment_start == c.segment_started_at, where
        assert replayed.target_us == c.target_us, where
        assert (c.status == ClockStatus.RUNNING) == (c.segment_started_at is not None), where
        if c.status == ClockStatus.RUNNING:
            times = clock_math.schedule(c.elapsed_us, c.segment_started_at, c.target_us,
                                        c.warning_percent, calendar)
            assert (c.due_at, c.warn_at) == (times.due_at, times.warn_at), where
            pending = [t for t, done in ((c.warn_at, c.warned_at), (c.due_at, c.breached_at))
                       if done is None]
            assert c.next_attention_at == (min(pending) if pending else None), where
        else:
            assert c.due_at is None and c.next_attention_at is None, where
    if not summary:
        return
    running = [c.due_at for c in ticket.clocks if c.status == ClockStatus.RUNNING]
    assert ticket.sla_due_at == (min(running) if running else None)
    customer = [c for c in ticket.clocks if c.metric in SLA_METRICS] or list(ticket.clocks)
    if not ticket.clocks:
        expected = None
    elif any(c.breached_at for c in customer):
        expected = "breached"
    elif any(c.warned_at and c.status != ClockStatus.STOPPED for c in customer):
        expected = "at_risk"
    else:
        expected = "ok"
    assert ticket.sla_state == expected
