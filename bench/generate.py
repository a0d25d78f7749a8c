"""Bulk ticket generator for benchmarks: many realistic tickets, fast.

It writes rows with executemany in large batches, bypassing the per-ticket
operations on purpose: a benchmark database of 100,000 tickets must be built
in seconds. Every ticket gets its `created` and `routed` history rows, so the
data looks like what the operations write.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
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
            tickets.append((
                ticket_id, f"HD-{year}-{number:06d}",
                "incident" if rng.random() < 0.7 else "service_request",
                f"Generated ticket {number}", "Generated for a benchmark.",
                rng.choice(requesters), rng.choice(services), impact, urgency,
                DEFAULT_MATRIX[impact - 1][urgency - 1], status, owner, assigned, False, "web",
                created_at, stamp(resolved) or created_at, stamp(resolved), 1,
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
