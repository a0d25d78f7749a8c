"""Starting, pausing, resuming, stopping and recomputing a ticket's clocks.

The ticket operations call the ``on_*`` hooks after the workflow has moved the
ticket; every clock change is recorded as a TicketEvent (``sla_clock_*``) whose
details let ``clock_math.replay`` add the history up again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from helpdesk.core.bulk import id_of, insert_ignoring_duplicates
from helpdesk.extensions import db
from helpdesk.sla import clock_math
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.models import (
    OLA_METRICS,
    SLA_METRICS,
    UC_METRICS,
    AlertKind,
    Calendar,
    ClockStatus,
    Metric,
    OlaPolicy,
    SlaAlert,
    SlaClock,
    SlaPolicy,
)
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.models import SupportGroup

DEFAULT_PAUSED_STATES = ("waiting_for_customer",)
RESOLVED_STATES = ("resolved",)
FINAL_STATES = ("closed", "cancelled")

_calendars: dict[tuple[int, str], BusinessCalendar] = {}


def business_calendar(calendar: Calendar) -> BusinessCalendar:
    """The pure calendar for a row, built once per definition."""
    key = (calendar.id, repr((calendar.timezone, calendar.weekly_hours, calendar.holiday_country,
                              calendar.holiday_categories, calendar.extra_closed_days,
                              calendar.extra_open_days, calendar.shortened_close)))
    if key not in _calendars:
        _calendars[key] = calendar.business_calendar()
    return _calendars[key]


def _minutes(value: int) -> int:
    return value * 60 * 1_000_000


def _mark(clock: SlaClock, kind: str, now: datetime, **details: Any) -> None:
    record(clock.ticket, f"sla_clock_{kind}", actor=None, now=now,
           clock_id=id_of(clock), metric=clock.metric.value, elapsed_us=clock.elapsed_us,
           target_us=clock.target_us, **details)


def reschedule(clock: SlaClock) -> None:
    """Due, warning and next-attention times from the row's counted time and target."""
    if clock.status != ClockStatus.RUNNING or clock.segment_started_at is None:
        clock.due_at = clock.warn_at = clock.next_attention_at = None
        return
    times = clock_math.schedule(clock.elapsed_us, clock.segment_started_at, clock.target_us,
                                clock.warning_percent, business_calendar(clock.calendar))
    clock.due_at, clock.warn_at = times.due_at, times.warn_at
    pending = []
    if clock.warned_at is None:
        pending.append(times.warn_at)
    if clock.breached_at is None:
        pending.append(times.due_at)
    clock.next_attention_at = min(pending) if pending else None


def _new_clock(ticket: Ticket, metric: Metric, *, calendar: Calendar, target_minutes: int,
               warning_percent: int, now: datetime, sla_policy: SlaPolicy | None,
               ola_policy: OlaPolicy | None, group: SupportGroup | None) -> SlaClock:
    # Only the links it has: a link set to None is one more change for the flush to sort out.
    links = {name: value for name, value in
             (("sla_policy", sla_policy), ("ola_policy", ola_policy), ("group", group))
             if value is not None}
    clock = SlaClock(
        ticket=ticket, metric=metric, calendar=calendar, target_us=_minutes(target_minutes),
        warning_percent=warning_percent, status=ClockStatus.RUNNING, started_at=now,
        elapsed_us=0, segment_started_at=now, **links,
    )
    db.session.add(clock)
    reschedule(clock)
    return clock


def _mark_started(clock: SlaClock, now: datetime) -> None:
    _mark(clock, clock_math.STARTED, now, due_at=_iso(clock.due_at),
          group_id=clock.group.id if clock.group else None)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def pause(clock: SlaClock, now: datetime, reason: str) -> None:
    if clock.status != ClockStatus.RUNNING:
        return
    calendar = business_calendar(clock.calendar)
    clock.elapsed_us = clock_math.counted(clock.elapsed_us, clock.segment_started_at, now, calendar)
    _record_overdue(clock, now)
    clock.segment_started_at = None
    clock.status = ClockStatus.PAUSED
    reschedule(clock)
    _mark(clock, clock_math.PAUSED, now, reason=reason)


def resume(clock: SlaClock, now: datetime, reason: str | None = None) -> None:
    if clock.status == ClockStatus.RUNNING:
        return
    clock.status = ClockStatus.RUNNING
    clock.segment_started_at = now
    clock.stopped_at = None
    reschedule(clock)
    _mark(clock, clock_math.RESUMED, now, due_at=_iso(clock.due_at), reason=reason)


def stop(clock: SlaClock, now: datetime, reason: str) -> None:
    if clock.status == ClockStatus.STOPPED:
        return
    calendar = business_calendar(clock.calendar)
    clock.elapsed_us = clock_math.counted(clock.elapsed_us, clock.segment_started_at, now, calendar)
    _record_overdue(clock, now)
    clock.segment_started_at = None
    clock.status = ClockStatus.STOPPED
    clock.stopped_at = now
    reschedule(clock)
    _mark(clock, clock_math.STOPPED, now, reason=reason,
          met=clock.breached_at is None)


def _record_overdue(clock: SlaClock, now: datetime) -> None:
    """A clock leaving the running state late, before the sweep saw it: the breach still
    happened, at the due time it had while running, and is recorded once."""
    if clock.elapsed_us > clock.target_us and clock.breached_at is None:
        record_alert(clock, AlertKind.BREACH, at=clock.due_at or now, now=now, by="clock")


def recompute(clock: SlaClock, now: datetime, *, reason: str, target_minutes: int | None = None,
              calendar: Calendar | None = None, old_calendar: BusinessCalendar | None = None) -> None:
    """A new target or calendar from ``now`` on; the time already counted stays counted."""
    if clock.status == ClockStatus.RUNNING:
        counting_calendar = old_calendar or business_calendar(clock.calendar)
        clock.elapsed_us = clock_math.counted(clock.elapsed_us, clock.segment_started_at, now,
                                              counting_calendar)
        clock.segment_started_at = now
    if target_minutes is not None:
        clock.target_us = _minutes(target_minutes)
    if calendar is not None:
        clock.calendar = calendar
    reschedule(clock)
    _mark(clock, clock_math.RECOMPUTED, now, reason=reason, due_at=_iso(clock.due_at))
    refresh_ticket(clock.ticket)


def record_alert(clock: SlaClock, kind: AlertKind, *, at: datetime, now: datetime,
                 by: str) -> bool:
    """Record a warning or breach; False if it was recorded before (by anyone, ever)."""
    return bool(record_alerts([(clock, kind, at)], now=now, by=by))


Alert = tuple[SlaClock, AlertKind, datetime]


def record_alerts(alerts: list[Alert], *, now: datetime, by: str) -> list[Alert]:
    """Record warnings and breaches in one statement; return those that are new.

    The unique constraint decides (INSERT … ON CONFLICT DO NOTHING), so two
    schedulers racing for the same clock cannot both record it. A clock whose alert
    someone else recorded gets its mark too, so it stops asking for attention.
    """
    if not alerts:
        return []
    rows = [{"clock_id": clock.id, "kind": kind, "at": at, "recorded_at": now, "recorded_by": by}
            for clock, kind, at in alerts]
    table = SlaAlert.__table__
    statement = insert_ignoring_duplicates(table).returning(table.c.clock_id, table.c.kind)
    new = {(row.clock_id, row.kind) for row in db.session.execute(statement, rows)}
    recorded = []
    for clock, kind, at in alerts:
        if kind == AlertKind.WARNING:
            clock.warned_at = clock.warned_at or at
        else:
            clock.breached_at = clock.breached_at or at
        if (clock.id, kind) in new:
            recorded.append((clock, kind, at))
            record(clock.ticket, f"sla_{kind.value}", actor=None, now=now, clock_id=clock.id,
                   metric=clock.metric.value, due_at=_iso(clock.due_at), at=at.isoformat())
    return recorded


# Hooks the ticket operations call ------------------------------------------------------


def _clocks(ticket: Ticket, metrics: frozenset[Metric]) -> list[SlaClock]:
    return [c for c in ticket.clocks if c.metric in metrics and c.status != ClockStatus.STOPPED]


def _paused_states(clock: SlaClock) -> tuple[str, ...]:
    if clock.sla_policy is not None:
        return tuple(clock.sla_policy.paused_states or ())
    return DEFAULT_PAUSED_STATES


def start_for_new_ticket(ticket: Ticket, now: datetime) -> list[SlaClock]:
    """The clocks a new ticket starts with, added to the session but not flushed: the caller
    flushes the ticket and its clocks together, then calls ``mark_started``."""
    policy = ticket.service.sla_policy
    started = []
    if policy is not None:
        for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
            minutes = policy.target_minutes(ticket.priority, metric.value)
            if minutes is not None:
                started.append(_new_clock(
                    ticket, metric, calendar=policy.calendar, target_minutes=minutes,
                    warning_percent=policy.warning_percent, now=now, sla_policy=policy,
                    ola_policy=None, group=None))
    ola_clock = _new_ola_clock(ticket, ticket.assigned_group, Metric.OLA_TAKE, now)
    if ola_clock is not None:
        started.append(ola_clock)
    refresh_ticket(ticket)
    return started


def on_ticket_created(ticket: Ticket, now: datetime) -> None:
    """Start a ticket's clocks now: when it is created, or when an order is approved."""
    started = start_for_new_ticket(ticket, now)
    db.session.flush()  # the clocks' ids go into their history
    mark_started(started, now)


def mark_started(started: Iterable[SlaClock], now: datetime) -> None:
    """The history rows of clocks that now have ids."""
    for clock in started:
        _mark_started(clock, now)


def _new_ola_clock(ticket: Ticket, group: SupportGroup, metric: Metric, now: datetime) -> SlaClock | None:
    # The group's OLA is not among the changes waiting in the session: no flush needed to read it.
    with db.session.no_autoflush:
        ola = db.session.scalars(select(OlaPolicy).where(OlaPolicy.group_id == group.id)).one_or_none()
    minutes = None
    if ola is not None:
        minutes = ola.take_minutes if metric == Metric.OLA_TAKE else ola.handle_minutes
    if ola is None or minutes is None:
        return None
    return _new_clock(ticket, metric, calendar=ola.calendar, target_minutes=minutes,
                      warning_percent=ola.warning_percent, now=now, sla_policy=None,
                      ola_policy=ola, group=group)


def _start_ola(ticket: Ticket, group: SupportGroup, metric: Metric, now: datetime) -> None:
    clock = _new_ola_clock(ticket, group, metric, now)
    if clock is not None:
        db.session.flush()
        _mark_started(clock, now)


def on_status_changed(ticket: Ticket, old: str, new: str, now: datetime) -> None:
    for clock in _clocks(ticket, SLA_METRICS | OLA_METRICS):
        paused = _paused_states(clock)
        # A resolved ticket has had its answer (the resolution note) and left every queue.
        if new in FINAL_STATES or new in RESOLVED_STATES:
            stop(clock, now, reason=new)
        elif new in paused and clock.status == ClockStatus.RUNNING:
            pause(clock, now, reason=new)
        elif new not in paused and clock.status == ClockStatus.PAUSED:
            # By the clock's own state, so a policy that stopped pausing in a state
            # while a ticket waited there cannot leave the clock paused for ever.
            resume(clock, now, reason=new)
    if old in RESOLVED_STATES + FINAL_STATES and new not in RESOLVED_STATES + FINAL_STATES:
        # Reopening resumes the resolution clock: the promise was not kept after all.
        for clock in ticket.clocks:
            if clock.metric == Metric.RESOLUTION and clock.status == ClockStatus.STOPPED:
                resume(clock, now, reason="reopened")
    refresh_ticket(ticket)


def on_public_reply(ticket: Ticket, now: datetime) -> None:
    """An agent's first public reply meets the first-response promise."""
    for clock in _clocks(ticket, frozenset({Metric.FIRST_RESPONSE})):
        stop(clock, now, reason="public_reply")
    refresh_ticket(ticket)


def on_taken(ticket: Ticket, now: datetime) -> None:
    for clock in _clocks(ticket, frozenset({Metric.OLA_TAKE})):
        stop(clock, now, reason="taken")
    if not _clocks(ticket, frozenset({Metric.OLA_HANDLE})):
        _start_ola(ticket, ticket.assigned_group, Metric.OLA_HANDLE, now)
    refresh_ticket(ticket)


def on_group_changed(ticket: Ticket, new_group: SupportGroup, now: datetime) -> None:
    for clock in _clocks(ticket, OLA_METRICS):
        stop(clock, now, reason="passed_on")
    _start_ola(ticket, new_group, Metric.OLA_TAKE, now)
    refresh_ticket(ticket)


def start_uc_clock(ticket: Ticket, metric: Metric, *, handoff: Any, calendar: Calendar,
                   target_minutes: int, warning_percent: int, group: SupportGroup,
                   now: datetime) -> SlaClock:
    """A vendor handoff's UC clock, on the contract's calendar; warned of and breached by the
    sweep like any other. ``group`` is the group that handed over: its lead hears of alerts."""
    clock = _new_clock(ticket, metric, calendar=calendar, target_minutes=target_minutes,
                       warning_percent=warning_percent, now=now, sla_policy=None,
                       ola_policy=None, group=group)
    clock.handoff = handoff
    db.session.flush()
    _mark_started(clock, now)
    refresh_ticket(ticket)
    return clock


def stop_uc_clocks(ticket: Ticket, handoff_id: int, now: datetime, reason: str,
                   metrics: frozenset[Metric] = UC_METRICS) -> None:
    for clock in _clocks(ticket, metrics):
        if clock.handoff_id == handoff_id:
            stop(clock, now, reason=reason)
    refresh_ticket(ticket)


def on_priority_changed(ticket: Ticket, now: datetime) -> None:
    for clock in _clocks(ticket, SLA_METRICS):
        policy = clock.sla_policy
        minutes = policy.target_minutes(ticket.priority, clock.metric.value) if policy else None
        if minutes is not None:
            recompute(clock, now, reason="priority", target_minutes=minutes)
    refresh_ticket(ticket)


def refresh_ticket(ticket: Ticket) -> None:
    """The ticket's SLA summary the queues sort and mark by."""
    ticket.sla_due_at, ticket.sla_state = sla_summary(ticket)


def refresh_tickets_quietly(tickets: Iterable[Ticket]) -> None:
    """The sweep's refresh: written in one statement, without counting as a change to the
    tickets, so an agent's open page does not become stale because a clock warned."""
    changed = []
    for ticket in tickets:
        due, state = sla_summary(ticket)
        if (due, state) != (ticket.sla_due_at, ticket.sla_state):
            changed.append({"ticket_id": ticket.id, "due": due, "state": state})
            set_committed_value(ticket, "sla_due_at", due)
            set_committed_value(ticket, "sla_state", state)
    if changed:
        table = Ticket.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("ticket_id"))
                           .values(sla_due_at=bindparam("due"), sla_state=bindparam("state")),
                           changed)


# What a clock's life changes. Bulk work marks all of them on every clock it changed,
# so the flush writes those clocks in one executemany UPDATE, not one per column set.
_CHANGING_COLUMNS = ("target_us", "status", "elapsed_us", "segment_started_at", "due_at",
                     "warn_at", "next_attention_at", "warned_at", "breached_at", "stopped_at")


def write_together(clocks: Iterable[SlaClock]) -> None:
    for clock in clocks:
        state: InstanceState[SlaClock] = inspect(clock)
        if state.persistent and state.modified:
            for name in _CHANGING_COLUMNS:
                flag_modified(clock, name)


def sla_summary(ticket: Ticket) -> tuple[datetime | None, str | None]:
    """The due time and SLA state the ticket's clocks give now (what refresh_ticket writes)."""
    clocks = list(ticket.clocks)
    if not clocks:
        return None, None
    running = [c.due_at for c in clocks if c.status == ClockStatus.RUNNING and c.due_at]
    due = min(running) if running else None
    customer = [c for c in clocks if c.metric in SLA_METRICS] or clocks
    if any(c.breached_at for c in customer):
        return due, "breached"
    if any(c.warned_at and c.status != ClockStatus.STOPPED for c in customer):
        return due, "at_risk"
    return due, "ok"


def remaining(clock: SlaClock, now: datetime) -> timedelta:
    """Business time left before the clock falls due (negative when overdue)."""
    used = clock_math.counted(clock.elapsed_us, clock.segment_started_at, now,
                              business_calendar(clock.calendar))
    return timedelta(microseconds=clock.target_us - used)
