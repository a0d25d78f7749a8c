"""The sweep: find clocks whose warning or due time has come, and act once.

It reads clocks through the ``next_attention_at`` index, so its cost follows the
number of clocks that need attention, not the number of tickets. Each warning
and breach is recorded under a unique constraint and its effects happen in the
same transaction, so a sweep that dies half-way changes nothing and the next
one (in this process or another) does the work exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.config import Settings
from helpdesk.core.bulk import inserted_together
from helpdesk.extensions import db
from helpdesk.sla import clocks, effects
from helpdesk.sla.models import AlertKind, ClockStatus, SlaClock
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.models import SupportGroup

BATCH = 500


@dataclass
class SweepResult:
    examined: int = 0
    warnings: list[int] = field(default_factory=list)  # clock ids
    breaches: list[int] = field(default_factory=list)


def sweep(*, now: datetime, settings: Settings, worker: str, limit: int = BATCH) -> SweepResult:
    """One pass over the clocks due for attention; the caller commits.

    Warnings come first, with their effects: a warning that raises the priority
    shortens the clock, and the breach check then uses the new due time.
    """
    query = (
        select(SlaClock)
        .where(SlaClock.next_attention_at <= now)
        .order_by(SlaClock.next_attention_at)
        .limit(limit)
        .options(*_what_effects_read())
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Another scheduler that (wrongly) runs at the same time skips what this one holds.
        query = query.with_for_update(skip_locked=True, of=SlaClock)
    due = db.session.scalars(query).all()
    running = [clock for clock in due if clock.status == ClockStatus.RUNNING]
    result = SweepResult(examined=len(due))
    # Nothing here reads back what it changed: one flush at the end writes it all.
    with db.session.no_autoflush, inserted_together():
        for kind, found in ((AlertKind.WARNING, result.warnings),
                            (AlertKind.BREACH, result.breaches)):
            alerts = [(clock, kind, at) for clock in running if (at := _passed(clock, kind, now))]
            for clock, _, _ in clocks.record_alerts(alerts, now=now, by=worker):
                found.append(clock.id)
                effects.apply(clock, kind, now=now, settings=settings)
        for clock in due:
            clocks.reschedule(clock)
        tickets = {clock.ticket for clock in due}
        clocks.refresh_tickets_quietly(tickets)
    clocks.write_together(clock for ticket in tickets for clock in ticket.clocks)
    _write_raised_priorities(tickets)
    for ticket in tickets:
        # Its new history went in past the ORM: a history read before must be read again.
        db.session.expire(ticket, ["events"])
    db.session.flush()
    return result


# What an effect may change on a ticket and still be written with the others (below).
_PRIORITY_CHANGE = frozenset({"priority", "sla_due_at", "sla_state", "updated_at", "updated_by",
                              "public_version", "public_updated_at"})


def _write_raised_priorities(tickets: Iterable[Ticket]) -> None:
    """Tickets whose priority an effect raised, in one versioned UPDATE.

    The ORM writes each versioned row on its own, one round trip per ticket. Here the
    version check is the same: a ticket someone saved since the sweep read it matches no
    row, the count falls short, and the whole sweep rolls back as the ORM's would.
    Anything else changed on a ticket (an escalation) is left to the ORM.
    """
    raised, rows = [], []
    for ticket in tickets:
        changed: set[str] = set(inspect(ticket).committed_state)
        if "priority" in changed and changed <= _PRIORITY_CHANGE:
            raised.append(ticket)
            rows.append({"ticket_id": ticket.id, "seen": ticket.version, "next": ticket.version + 1,
                         "priority": ticket.priority, "due": ticket.sla_due_at,
                         "state": ticket.sla_state, "at": ticket.updated_at,
                         "public_version": ticket.public_version,
                         "public_at": ticket.public_updated_at})
    if not rows:
        return
    table = Ticket.__table__
    with db.session.no_autoflush:  # a flush now would write these tickets the ORM's way first
        written: int = db.session.execute(  # type: ignore[attr-defined]
            update(table)
            .where(table.c.id == bindparam("ticket_id"), table.c.version == bindparam("seen"))
            .values(version=bindparam("next"), priority=bindparam("priority"),
                    sla_due_at=bindparam("due"), sla_state=bindparam("state"),
                    updated_at=bindparam("at"), updated_by_id=None,
                    public_version=bindparam("public_version"),
                    public_updated_at=bindparam("public_at")), rows).rowcount
    if written != len(rows):
        raise StaleDataError(f"{len(rows) - written} of {len(rows)} tickets were saved by someone "
                             "else while the sweep raised their priority")
    for ticket, row in zip(raised, rows, strict=True):
        for name in _PRIORITY_CHANGE:
            set_committed_value(ticket, name, getattr(ticket, name))
        set_committed_value(ticket, "updated_by_id", None)
        set_committed_value(ticket, "version", row["next"])


def _passed(clock: SlaClock, kind: AlertKind, now: datetime) -> datetime | None:
    """The warning or due time, if it has come and was not recorded yet."""
    if kind == AlertKind.WARNING:
        moment, recorded = clock.warn_at, clock.warned_at
    else:
        moment, recorded = clock.due_at, clock.breached_at
    return moment if recorded is None and moment is not None and moment <= now else None


def _what_effects_read() -> tuple[Any, ...]:
    """Loaded with the due clocks: a few queries per batch instead of several per clock."""
    return (
        selectinload(SlaClock.ticket).options(
            selectinload(Ticket.clocks),
            selectinload(Ticket.assignee),
            selectinload(Ticket.assigned_group).selectinload(SupportGroup.lead),
        ),
        selectinload(SlaClock.calendar),
        selectinload(SlaClock.sla_policy),
        selectinload(SlaClock.ola_policy),
        selectinload(SlaClock.group).selectinload(SupportGroup.lead),
    )


def sweep_all(*, now: datetime, settings: Settings, worker: str) -> SweepResult:
    """Sweep in batches until nothing due is left (each batch flushed, one commit by the caller)."""
    total = SweepResult()
    while True:
        batch = sweep(now=now, settings=settings, worker=worker)
        total.examined += batch.examined
        total.warnings += batch.warnings
        total.breaches += batch.breaches
        if batch.examined < BATCH:
            return total
