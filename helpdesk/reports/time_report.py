"""Where the time went: for the tickets resolved in a period, the business time they spent at
level 1, 2 and 3, at vendors, waiting for the customer and waiting for an approver, per
service or per group — SUMs over the ledger that each resolution writes (``time_ledger``).

A ticket belongs to the period of its (last) resolution, as its resolution clock does in the
compliance report. Per group, a row is the time the tickets were with that group: working
them, or waiting for the customer or a vendor on its behalf. The tier and group filters
keep the time spent with that tier or group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.reports.compliance import Dimension, Filters, filtered, key_labels
from helpdesk.reports.models import TicketTimeSpent
from helpdesk.reports.time_spent import WORKING
from helpdesk.tickets.models import Ticket

DIMENSIONS = (Dimension.SERVICE, Dimension.GROUP)
# The report's columns: a tier's own, then the holders that are not a tier.
COLUMNS = ("level_1", "level_2", "level_3", "vendor", "customer", "approval")
COLUMN_LABELS = {
    "level_1": N_("Level 1"), "level_2": N_("Level 2"), "level_3": N_("Level 3"),
    "vendor": N_("At vendors"), "customer": N_("Waiting for the customer"),
    "approval": N_("Waiting for approval"),
}


def column_of(holder: str, tier: int) -> str:
    return f"level_{tier}" if holder == WORKING else holder


@dataclass(frozen=True)
class TimeRow:
    key: int
    label: str
    tickets: int
    spent_us: dict[str, int] = field(default_factory=dict)

    @property
    def total_us(self) -> int:
        return sum(self.spent_us.values())

    @property
    def per_ticket_us(self) -> int:
        return self.total_us // self.tickets if self.tickets else 0

    def percent(self, column: str) -> float:
        return round(100 * self.spent_us.get(column, 0) / self.total_us, 1) if self.total_us else 0.0


def _key(dimension: Dimension) -> Any:
    if dimension not in DIMENSIONS:
        raise ValueError(f"where the time went is per service or group, not {dimension}")
    return TicketTimeSpent.service_id if dimension == Dimension.SERVICE else TicketTimeSpent.group_id


def _rows(filters: Filters, *columns: Any) -> Select[Any]:
    query = select(*columns).where(TicketTimeSpent.resolved_at >= filters.period.starts_at,
                                   TicketTimeSpent.resolved_at < filters.period.ends_at)
    return filtered(query, filters, service=TicketTimeSpent.service_id, tier=TicketTimeSpent.tier,
                    group=TicketTimeSpent.group_id)


def where_time_went(dimension: Dimension, filters: Filters, *, english: bool = True) -> list[TimeRow]:
    """One row per service or group, with business microseconds per column of ``COLUMNS``."""
    key = _key(dimension)
    sums = db.session.execute(_rows(
        filters, key, TicketTimeSpent.holder, TicketTimeSpent.tier,
        func.sum(TicketTimeSpent.business_us))
        .group_by(key, TicketTimeSpent.holder, TicketTimeSpent.tier)).all()
    counts: dict[int, int] = dict(db.session.execute(_rows(
        filters, key, func.count(func.distinct(TicketTimeSpent.ticket_id))).group_by(key)).all())
    spent: dict[int, dict[str, int]] = {k: {} for k in counts}
    for row_key, holder, tier, total in sums:
        column = column_of(holder, tier)
        spent[row_key][column] = spent[row_key].get(column, 0) + int(total or 0)
    labels = key_labels(dimension, set(counts), english=english)
    rows = [TimeRow(key=k, label=labels.get(k, str(k)), tickets=int(n), spent_us=spent[k])
            for k, n in counts.items()]
    return sorted(rows, key=lambda r: (r.label.casefold(), r.key))


@dataclass(frozen=True)
class TicketTime:
    reference: str
    subject: str
    confidential: bool
    spent_us: dict[str, int]

    @property
    def total_us(self) -> int:
        return sum(self.spent_us.values())


def tickets_behind(dimension: Dimension, filters: Filters, *, key: int | None,
                   limit: int = 500) -> list[TicketTime]:
    """The tickets behind one row, filtered the same way, the longest first."""

    def scoped(*columns: Any) -> Select[Any]:
        query = _rows(filters, *columns)
        return query if key is None else query.where(_key(dimension) == key)

    total = func.sum(TicketTimeSpent.business_us)
    longest = (scoped(TicketTimeSpent.ticket_id).group_by(TicketTimeSpent.ticket_id)
               .order_by(total.desc(), TicketTimeSpent.ticket_id).limit(limit)).subquery()
    rows = db.session.execute(
        scoped(Ticket.id, Ticket.reference, Ticket.subject, Ticket.confidential,
               TicketTimeSpent.holder, TicketTimeSpent.tier, total)
        .join(Ticket, Ticket.id == TicketTimeSpent.ticket_id)
        .where(TicketTimeSpent.ticket_id.in_(select(longest.c.ticket_id)))
        .group_by(Ticket.id, Ticket.reference, Ticket.subject, Ticket.confidential,
                  TicketTimeSpent.holder, TicketTimeSpent.tier)).all()
    found: dict[int, TicketTime] = {}
    for ticket_id, reference, subject, confidential, holder, tier, spent in rows:
        entry = found.setdefault(ticket_id, TicketTime(reference, subject, confidential, {}))
        column = column_of(holder, tier)
        entry.spent_us[column] = entry.spent_us.get(column, 0) + int(spent or 0)
    return sorted(found.values(), key=lambda t: (-t.total_us, t.reference))
