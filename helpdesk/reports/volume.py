"""Volume and trends: tickets created, resolved and open per week or month, the age of
today's backlog, the reopen rate, and escalations per tier with their commonest reasons.

Weeks (Monday–Sunday) and months are local (Stockholm); their UTC boundaries are worked
out here, so the database only compares times (``CASE`` per bucket), the same on SQLite
and PostgreSQL. "Open at the end of a bucket" reads the tickets' current resolution
times: a ticket reopened later counts as resolved from its last resolution on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.reports.period import Period, month
from helpdesk.sla.clocks import FINAL_STATES, RESOLVED_STATES
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tiers.models import SupportGroup

UNITS = ("month", "week")
AGE_LABELS = (N_("under a day"), N_("1–7 days"), N_("7–30 days"), N_("over 30 days"))
# A ticket reaches a tier by being routed there, escalated there or reopened there.
ARRIVALS = ("routed", "escalated", "reopened")


@dataclass(frozen=True)
class Bucket:
    period: Period
    created: int
    resolved: int
    open_at_end: int

    @property
    def label(self) -> str:
        return self.period.month_key or self.period.first_day.strftime("%G-W%V")


@dataclass(frozen=True)
class TierEscalations:
    tier: int
    arrived: int
    escalated: int

    @property
    def percent(self) -> float:
        return round(100 * self.escalated / self.arrived, 1) if self.arrived else 0.0


@dataclass(frozen=True)
class Volume:
    buckets: list[Bucket]
    backlog_by_age: list[tuple[str, int]]
    resolved: int
    reopened: int
    tiers: list[TierEscalations]
    reasons: list[tuple[str, int]]

    @property
    def reopen_percent(self) -> float:
        return round(100 * self.reopened / self.resolved, 1) if self.resolved else 0.0


def periods(period: Period, unit: str) -> list[Period]:
    """The months or weeks in ``period``, the first and last cut at its edges."""
    out: list[Period] = []
    day = period.first_day
    while day <= period.last_day:
        if unit == "week":
            end = day + timedelta(days=6 - day.weekday())
        else:
            end = month(day.year, day.month).last_day
        end = min(end, period.last_day)
        out.append(Period(day, end, period.timezone))
        day = end + timedelta(days=1)
    return out


def _index(column: Any, parts: list[Period]) -> Any:
    return case(*[(and_(column >= p.starts_at, column < p.ends_at), n) for n, p in enumerate(parts)],
                else_=None)


def _of_service(query: Any, service_id: int | None) -> Any:
    return query if service_id is None else query.where(Ticket.service_id == service_id)


def volume(period: Period, *, unit: str = "month", service_id: int | None = None,
           now: datetime) -> Volume:
    parts = periods(period, unit)
    start, end = period.starts_at, period.ends_at
    created_index = _index(Ticket.created_at, parts)
    created = dict(db.session.execute(_of_service(
        select(created_index, func.count()).where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(created_index), service_id)).all())
    resolved_index = _index(TicketEvent.at, parts)
    resolved = dict(db.session.execute(_of_service(
        select(resolved_index, func.count()).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "resolved", TicketEvent.at >= start, TicketEvent.at < end)
        .group_by(resolved_index), service_id)).all())
    finished = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    open_counts = db.session.execute(_of_service(select(*[
        func.sum(case((and_(Ticket.created_at < p.ends_at,
                            or_(finished.is_(None), finished >= p.ends_at)), 1), else_=0))
        for p in parts]).where(Ticket.created_at < end), service_id)).one()
    buckets = [Bucket(p, int(created.get(n, 0)), int(resolved.get(n, 0)),
                      int(open_counts[n] or 0)) for n, p in enumerate(parts)]
    return Volume(buckets, _backlog(now, service_id), sum(b.resolved for b in buckets),
                  _reopened(start, end, service_id), _tiers(start, end, service_id),
                  _reasons(start, end, service_id))


def _backlog(now: datetime, service_id: int | None) -> list[tuple[str, int]]:
    limits = (now - timedelta(days=1), now - timedelta(days=7), now - timedelta(days=30))
    age = case((Ticket.created_at >= limits[0], 0), (Ticket.created_at >= limits[1], 1),
               (Ticket.created_at >= limits[2], 2), else_=3)
    counts = dict(db.session.execute(_of_service(
        select(age, func.count()).where(Ticket.status.not_in(RESOLVED_STATES + FINAL_STATES))
        .group_by(age), service_id)).all())
    return [(label, int(counts.get(n, 0))) for n, label in enumerate(AGE_LABELS)]


def _events(kind: str | tuple[str, ...], start: datetime, end: datetime) -> Any:
    kinds = (kind,) if isinstance(kind, str) else kind
    return (select().select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.kind.in_(kinds), TicketEvent.at >= start, TicketEvent.at < end))


def _reopened(start: datetime, end: datetime, service_id: int | None) -> int:
    query = _events("reopened", start, end).add_columns(func.count(TicketEvent.ticket_id.distinct()))
    return int(db.session.execute(_of_service(query, service_id)).scalar_one())


def _tiers(start: datetime, end: datetime, service_id: int | None) -> list[TierEscalations]:
    arrived = dict(db.session.execute(_of_service(
        _events(ARRIVALS, start, end).add_columns(SupportGroup.tier, func.count())
        .join(SupportGroup, SupportGroup.id == TicketEvent.to_group_id)
        .group_by(SupportGroup.tier), service_id)).all())
    escalated = dict(db.session.execute(_of_service(
        _events("escalated", start, end).add_columns(SupportGroup.tier, func.count())
        .join(SupportGroup, SupportGroup.id == TicketEvent.from_group_id)
        .group_by(SupportGroup.tier), service_id)).all())
    return [TierEscalations(tier, int(arrived.get(tier, 0)), int(escalated.get(tier, 0)))
            for tier in sorted(set(arrived) | set(escalated))]


def _reasons(start: datetime, end: datetime, service_id: int | None,
             limit: int = 5) -> list[tuple[str, int]]:
    count = func.count().label("n")
    rows = db.session.execute(_of_service(
        _events("escalated", start, end).add_columns(TicketEvent.reason, count)
        .group_by(TicketEvent.reason).order_by(count.desc(), TicketEvent.reason).limit(limit),
        service_id)).all()
    return [(reason or "", int(n)) for reason, n in rows]
