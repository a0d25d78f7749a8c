"""Bulk ticket generator for benchmarks: many realistic tickets, fast.

It writes rows with executemany in large batches, bypassing the per-ticket
operations on purpose: a benchmark database of 100,000 tickets must be built
in seconds. Every ticket gets its `created` and `routed` history rows, so the
data looks like what the operations write.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from helpdesk.accounts.models import Role, User
from helpdesk.catalogue.models import Service
from helpdesk.extensions import db
from helpdesk.tickets.models import ReferenceCounter, Ticket, TicketEvent
from helpdesk.tickets.priority import DEFAULT_MATRIX
from helpdesk.tiers.models import SupportGroup

BATCH = 25_000
# Roughly how a real helpdesk's tickets are spread over states.
STATUS_WEIGHTS = {
    "new": 4, "open": 3, "in_progress": 8, "waiting_for_customer": 3,
    "resolved": 7, "closed": 72, "cancelled": 3,
}
TICKET_COLUMNS = (
    "id", "reference", "type", "subject", "description", "requester_id", "service_id",
    "impact", "urgency", "priority", "status", "owner_group_id", "assigned_group_id",
    "confidential", "channel", "created_at", "updated_at", "resolved_at", "version",
    "public_version", "public_updated_at",
)
EVENT_COLUMNS = ("ticket_id", "at", "kind", "to_status", "to_group_id", "details")


def _insert_many(table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # Straight to the driver: SQLAlchemy's per-value type processing would
        # cost two thirds of the time. Values are already in storage format.
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        connection.exec_driver_sql(sql, rows)
    else:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        if "id" in columns:
            # Ids given by hand: move the sequence past them, or the next ticket the
            # application creates would take id 1 again.
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT max(id) FROM {table.name}))")


def generate_tickets(count: int, *, year: int = 2026, seed: int = 42) -> int:
    """Insert ``count`` tickets spread over the organisation's groups; return the count."""
    rng = random.Random(seed)
    sqlite = db.session.connection().dialect.name == "sqlite"

    def stamp(value: datetime | None) -> Any:
        # SQLite keeps the text SQLAlchemy's DateTime writes; PostgreSQL takes datetimes.
        if value is None or not sqlite:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    requesters = db.session.scalars(select(User.id).where(User.role == Role.REQUESTER)).all()
    services = db.session.scalars(select(Service.id)).all()
    groups = db.session.execute(select(SupportGroup.id, SupportGroup.tier)).all()
    group_ids = [g.id for g in groups]
    level1 = [g.id for g in groups if g.tier == 1]
    statuses = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()), k=count)
    counter = db.session.get(ReferenceCounter, year)
    start_number = counter.last_number if counter else 0
    first_id = (db.session.scalar(select(db.func.max(Ticket.id))) or 0) + 1
    base = datetime(year, 1, 1, tzinfo=UTC)
    span = 360 * 24 * 3600
    details = "{}" if sqlite else {}
    for offset in range(0, count, BATCH):
        tickets: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for i in range(offset, min(offset + BATCH, count)):
            number = start_number + i + 1
            ticket_id = first_id + i
            created = base + timedelta(seconds=rng.randrange(span))
            owner = rng.choice(level1)
            assigned = rng.choice(group_ids) if rng.random() < 0.3 else owner
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            status = statuses[i]
            resolved = (created + timedelta(hours=rng.randint(1, 200))
                        if status in ("resolved", "closed") else None)
            created_at = stamp(created)
            changed_at = stamp(resolved) or created_at
            tickets.append((
                ticket_id, f"HD-{year}-{number:06d}",
                "incident" if rng.random() < 0.7 else "service_request",
                f"Generated ticket {number}", "Generated for a benchmark.",
                rng.choice(requesters), rng.choice(services), impact, urgency,
                DEFAULT_MATRIX[impact - 1][urgency - 1], status, owner, assigned, False, "web",
                created_at, changed_at, stamp(resolved), 1, 1, changed_at,
            ))
            events.append((ticket_id, created_at, "created", "new", None, details))
            events.append((ticket_id, created_at, "routed", None, owner, details))
        _insert_many(Ticket.__table__, TICKET_COLUMNS, tickets)
        _insert_many(TicketEvent.__table__, EVENT_COLUMNS, events)
    if counter is None:
        db.session.add(ReferenceCounter(year=year, last_number=start_number + count))
    else:
        counter.last_number = start_number + count
    db.session.commit()
    return count


CLOCK_COLUMNS = (
    "id", "ticket_id", "metric", "group_id", "sla_policy_id", "ola_policy_id", "calendar_id",
    "target_us", "warning_percent", "status", "started_at", "elapsed_us", "segment_started_at",
    "due_at", "warn_at", "next_attention_at", "warned_at", "breached_at", "stopped_at",
)
ALERT_COLUMNS = ("clock_id", "kind", "at", "recorded_at", "recorded_by")
# Share of the not-yet-due clocks that have already warned (next attention: their due time).
WARNED_SHARE = 0.1


@dataclass
class DueClocks:
    """The clock ids ``generate_clocks`` left needing attention, by what they need."""

    one_thing: list[int] = field(default_factory=list)  # a warning or a breach
    both: list[int] = field(default_factory=list)  # a warning and a breach at once


def raw_datetimes(sqlite: bool) -> tuple[Callable[[datetime | None], Any],
                                          Callable[[Any], datetime]]:
    """Writing and reading datetimes in raw rows, past the ORM: on SQLite as the text
    SQLAlchemy's DateTime writes (isoformat is 4x faster than strftime)."""

    def stamp(value: datetime | None) -> Any:
        if value is None or not sqlite:
            return value
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def parse(value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return stamp, parse


def generate_clocks(count: int, *, now: datetime, due: int = 100, seed: int = 42) -> DueClocks:
    """Insert ``count`` running SLA clocks on open tickets; ``2 * due`` of them need attention.

    Clocks go on tickets in new/open (first response and resolution) or in_progress
    (resolution only) whose service has an SLA policy, as ``on_ticket_created`` starts
    them. Due, warning and next-attention times come from the application's own
    arithmetic (``clock_math.schedule`` on the policy's calendar), so the sweep's
    rescheduling agrees with them. All but ``2 * due`` clocks next need attention after
    ``now`` (a tenth of them have warned already, with their warning alert recorded).
    Of the due ones, on tickets created at least 30 days before ``now``: ``due`` need one
    thing, alternately a warning (75 % passed a minute ago, due later) and a breach
    (warned before, due passed), which is what a sweep every 30 seconds meets; the
    other ``due`` need both at once (untouched for a month: warning and due passed),
    which is what a scheduler back from a long stop meets. The tickets'
    ``sla_due_at``/``sla_state`` are set as ``refresh_ticket`` would.
    """
    from helpdesk.sla import clock_math
    from helpdesk.sla.clocks import business_calendar
    from helpdesk.sla.models import Calendar, SlaAlert, SlaClock, SlaPolicy

    rng = random.Random(seed)
    stamp, parse = raw_datetimes(db.session.connection().dialect.name == "sqlite")

    calendars = {c.id: business_calendar(c) for c in db.session.scalars(select(Calendar))}
    policies = {p.id: p for p in db.session.scalars(select(SlaPolicy))}
    service_policy: dict[int, int] = dict(db.session.execute(  # type: ignore[arg-type]
        select(Service.id, Service.sla_policy_id).where(Service.sla_policy_id.is_not(None))).all())
    candidates = list(db.session.execute(
        select(Ticket.id, Ticket.priority, Ticket.status, Ticket.service_id, Ticket.created_at)
        .where(Ticket.status.in_(("new", "open", "in_progress")),
               Ticket.service_id.in_(list(service_policy)))
        .order_by(Ticket.id)
    ).all())
    rng.shuffle(candidates)
    chosen: list[tuple[Any, str]] = []
    for ticket in candidates:
        if len(chosen) >= count:
            break
        if ticket.status != "in_progress":
            chosen.append((ticket, "first_response"))
        chosen.append((ticket, "resolution"))
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} clocks fit on the open tickets, {count} asked")
    chosen = sorted(chosen[:count], key=lambda c: (c[0].id, c[1] == "resolution"))
    old_enough = now - timedelta(days=30)
    eligible = [i for i, (t, _) in enumerate(chosen) if parse(t.created_at) <= old_enough]
    # One due clock per ticket, so the two sets never share a ticket.
    one_per_ticket = list({chosen[i][0].id: i for i in eligible}.values())
    picked = rng.sample(one_per_ticket, 2 * due)
    needs = {position: ("warning", "breach")[n % 2] for n, position in enumerate(picked[:due])}
    needs.update({position: "both" for position in picked[due:]})

    first_id = (db.session.scalar(select(db.func.max(SlaClock.id))) or 0) + 1
    result = DueClocks()
    rows: list[tuple[Any, ...]] = []
    alerts: list[tuple[Any, ...]] = []
    for position, (ticket, metric) in enumerate(chosen):
        clock_id = first_id + position
        policy = policies[service_policy[ticket.service_id]]
        calendar = calendars[policy.calendar_id]
        target_us = policy.targets[str(ticket.priority)][metric] * 60_000_000
        started = parse(ticket.created_at)
        need = needs.get(position)
        if need == "warning":
            # Resumed a minute ago with 80 % used: the warning is past, the due time ahead.
            elapsed, segment = int(target_us * 0.8), now - timedelta(minutes=1)
        elif need is not None:
            # Untouched since the ticket came in a month or more ago: warning and due passed.
            elapsed, segment = 0, started
        else:
            # Paused (waiting for the customer) and resumed a little while ago.
            warned = rng.random() < WARNED_SHARE
            share = rng.uniform(0.76, 0.85) if warned else rng.uniform(0.0, 0.6)
            elapsed = int(target_us * share)
            segment = now - timedelta(microseconds=int(target_us * rng.uniform(0.0, 0.1)))
        times = clock_math.schedule(elapsed, segment, target_us, policy.warning_percent, calendar)
        warned_at = None
        if need == "breach" or (need is None and elapsed * 100 >= target_us * policy.warning_percent):
            warned_at = times.warn_at
            alerts.append((clock_id, "warning", stamp(warned_at), stamp(warned_at), "generator"))
        attention = times.due_at if warned_at else times.warn_at
        if need is None:
            assert attention > now, (ticket.id, metric)
        else:
            assert attention <= now and (times.due_at <= now) == (need != "warning"), (
                ticket.id, metric, need)
            (result.both if need == "both" else result.one_thing).append(clock_id)
        rows.append((
            clock_id, ticket.id, metric, None, policy.id, None, policy.calendar_id, target_us,
            policy.warning_percent, "running", stamp(started), elapsed, stamp(segment),
            stamp(times.due_at), stamp(times.warn_at), stamp(attention), stamp(warned_at),
            None, None,
        ))
    for offset in range(0, len(rows), BATCH):
        _insert_many(SlaClock.__table__, CLOCK_COLUMNS, rows[offset:offset + BATCH])
    for offset in range(0, len(alerts), BATCH):
        _insert_many(SlaAlert.__table__, ALERT_COLUMNS, alerts[offset:offset + BATCH])
    # The tickets' SLA summary, as refresh_ticket computes it, in one set-based statement.
    db.session.connection().exec_driver_sql(
        "UPDATE tickets SET"
        " sla_due_at = (SELECT min(c.due_at) FROM sla_clocks c"
        "               WHERE c.ticket_id = tickets.id AND c.status = 'running'),"
        " sla_state = CASE WHEN EXISTS (SELECT 1 FROM sla_clocks c WHERE c.ticket_id = tickets.id"
        "                               AND c.breached_at IS NOT NULL) THEN 'breached'"
        "             WHEN EXISTS (SELECT 1 FROM sla_clocks c WHERE c.ticket_id = tickets.id"
        "                          AND c.warned_at IS NOT NULL AND c.status <> 'stopped')"
        "             THEN 'at_risk' ELSE 'ok' END"
        " WHERE id IN (SELECT ticket_id FROM sla_clocks)"
    )
    db.session.commit()
    return result
