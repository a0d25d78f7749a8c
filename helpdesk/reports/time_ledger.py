"""Writing where a resolved ticket's time went (``TicketTimeSpent``), from its history.

A resolution writes the ticket's rows anew from all of its history, so a ticket reopened and
resolved again counts once, with all its time, at its last resolution; a reopening removes
them until then. The history is the source: ``rebuild`` writes every resolved ticket's
rows from it again (after an upgrade, or to check the ledger).

The calendar is the one of the customer's promise (the ticket's resolution clock, else its
service's SLA policy); a ticket with no SLA counts around the clock. One calendar for all
of a ticket's spans makes them add up to its business time from creation to resolution.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from helpdesk.catalogue.models import Service
from helpdesk.core import bulk
from helpdesk.extensions import db
from helpdesk.reports.models import TicketTimeSpent
from helpdesk.reports.time_spent import Step, spans, time_spent
from helpdesk.sla.calendar import BusinessCalendar, always_open_calendar
from helpdesk.sla.clocks import business_calendar
from helpdesk.sla.models import Calendar, Metric, SlaClock, SlaPolicy
from helpdesk.tickets.history import Recorded, on_recorded
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tiers.models import SupportGroup

_AROUND_THE_CLOCK = always_open_calendar()
_MICROSECOND = timedelta(microseconds=1)


def register_time_ledger() -> None:
    """Keep the ledger as tickets are resolved and reopened (the app calls this once)."""
    on_recorded(_on_ticket_event, kinds={"resolved", "reopened"})


def _on_ticket_event(event: Recorded) -> None:
    if event.kind == "resolved":
        write_time_spent(event.ticket, resolved_at=event.now)
    else:
        forget_time_spent(event.ticket.id)


def forget_time_spent(ticket_id: int) -> None:
    db.session.execute(delete(TicketTimeSpent).where(TicketTimeSpent.ticket_id == ticket_id))


def write_time_spent(ticket: Ticket, *, resolved_at: datetime) -> int:
    """The ticket's rows from its history up to ``resolved_at``; the number written."""
    forget_time_spent(ticket.id)
    steps = [Step(at, status, group_id) for at, status, group_id in db.session.execute(
        select(TicketEvent.at, TicketEvent.to_status, TicketEvent.to_group_id)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id))]
    # Inside a bulk block the block's own history rows are still queued, after those above.
    steps += [Step(row["at"], row["to_status"], row["to_group_id"])
              for row in bulk.queued_rows(TicketEvent.__table__) if row["ticket_id"] == ticket.id]
    steps.sort(key=lambda step: step.at)  # stable: rows of the same moment keep their order
    totals = time_spent(spans(steps, resolved_at), _calendar_of(ticket))
    if not totals:
        return 0
    tiers = dict(db.session.execute(select(SupportGroup.id, SupportGroup.tier).where(
        SupportGroup.id.in_({group_id for _, group_id in totals}))).all())
    db.session.execute(insert(TicketTimeSpent), [
        {"ticket_id": ticket.id, "service_id": ticket.service_id, "group_id": group_id,
         "tier": tiers[group_id], "holder": holder, "resolved_at": resolved_at,
         "business_us": spent // _MICROSECOND}
        for (holder, group_id), spent in sorted(totals.items())])
    return len(totals)


def _calendar_of(ticket: Ticket) -> BusinessCalendar:
    calendar = db.session.scalar(
        select(Calendar).join(SlaClock, SlaClock.calendar_id == Calendar.id)
        .where(SlaClock.ticket_id == ticket.id, SlaClock.metric == Metric.RESOLUTION,
               SlaClock.handoff_id.is_(None))
        .order_by(SlaClock.id.desc()).limit(1))
    if calendar is None:
        calendar = db.session.scalar(
            select(Calendar).join(SlaPolicy, SlaPolicy.calendar_id == Calendar.id)
            .join(Service, Service.sla_policy_id == SlaPolicy.id)
            .where(Service.id == ticket.service_id))
    return business_calendar(calendar) if calendar is not None else _AROUND_THE_CLOCK


def rebuild(*, batch: int = 500) -> int:
    """Every resolved ticket's rows (closed ones' too) from its history again; the number
    of tickets. A maintenance command: one ticket at a time, committed per batch."""
    db.session.execute(delete(TicketTimeSpent))
    done = 0
    last_id = 0
    while True:
        tickets = db.session.scalars(
            select(Ticket).where(Ticket.id > last_id, Ticket.resolved_at.is_not(None))
            .order_by(Ticket.id).limit(batch)).all()
        if not tickets:
            break
        for ticket in tickets:
            # resolved_at stays through closing and is cleared by a reopening.
            write_time_spent(ticket, resolved_at=ticket.resolved_at)  # type: ignore[arg-type]
            done += 1
        last_id = tickets[-1].id
        db.session.commit()
    db.session.commit()
    return done

