"""SLA compliance: how many clocks met their promise, per service, priority, tier, group or
vendor, with the median and 90th percentile of business time. Groups and tiers are also
measured on the groups' own promises (OLA: taking a ticket from the queue, and passing it
on or resolving it), each OLA clock for the group it ran for.

Which clocks belong to a period: the clocks that *stopped* in it (the promise was decided
then: a first reply, a resolution, a vendor's answer). A reopened ticket's resolution clock
runs on and belongs to the period of its last stop, with all its business time. Clocks
still running are not counted yet. A clock is breached when the sweep or the stop recorded
a breach, or its business time exceeds its target.

Percentiles are by nearest rank (the smallest time whose rank is at least p·n), chosen by
``row_number()`` and ``count()`` windows on SQLite and by ``percentile_disc`` on
PostgreSQL, which the tests hold to the same hand-worked figures.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select

from helpdesk.catalogue.models import Service
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.reports.period import Period
from helpdesk.sla.models import OLA_METRICS, SLA_METRICS, UC_METRICS, Metric, SlaClock
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.vendors.models import Vendor, VendorHandoff
from helpdesk.web.template_helpers import METRIC_LABELS as CLOCK_LABELS


class Dimension(enum.StrEnum):
    SERVICE = "service"
    PRIORITY = "priority"
    TIER = "tier"
    GROUP = "group"
    VENDOR = "vendor"


DIMENSION_LABELS = {
    Dimension.SERVICE: N_("Service"), Dimension.PRIORITY: N_("Priority"),
    Dimension.TIER: N_("Tier"), Dimension.GROUP: N_("Group"), Dimension.VENDOR: N_("Vendor (UC)"),
}
METRIC_LABELS = {
    Metric.FIRST_RESPONSE: N_("First response"), Metric.RESOLUTION: N_("Resolution"),
    Metric.OLA_TAKE: CLOCK_LABELS[Metric.OLA_TAKE], Metric.OLA_HANDLE: CLOCK_LABELS[Metric.OLA_HANDLE],
    Metric.UC_RESPONSE: N_("Vendor's first answer"), Metric.UC_RESOLUTION: N_("Vendor's solution"),
}
# The order a key's rows are shown in: the customer's promises, then the group's own.
_METRIC_ORDER = {metric: n for n, metric in enumerate(METRIC_LABELS)}


@dataclass(frozen=True)
class Filters:
    period: Period
    service_id: int | None = None
    tier: int | None = None
    group_id: int | None = None


@dataclass(frozen=True)
class ComplianceRow:
    key: int
    label: str
    metric: Metric
    count: int
    breached: int
    median_us: int
    p90_us: int

    @property
    def met(self) -> int:
        return self.count - self.breached

    @property
    def met_percent(self) -> float:
        return round(100 * self.met / self.count, 1) if self.count else 0.0


# The group a clock counts for (``_group``, joined by ``_clocks``): its own (an OLA clock),
# else the group that has the ticket now, i.e. the one that resolved it.
_group = SupportGroup


def _breached() -> ColumnElement[bool]:
    return or_(SlaClock.breached_at.is_not(None), SlaClock.elapsed_us > SlaClock.target_us)


def _key(dimension: Dimension) -> Any:
    return {
        Dimension.SERVICE: Ticket.service_id,
        Dimension.PRIORITY: Ticket.priority,
        Dimension.TIER: _group.tier,
        Dimension.GROUP: _group.id,
        Dimension.VENDOR: VendorHandoff.vendor_id,
    }[dimension]


def metrics_for(dimension: Dimension) -> frozenset[Metric]:
    """The promises a dimension is measured on: a vendor on its contracts (UC); a group, and
    a tier, also on the groups' own promises (OLA), counted for the group each clock ran
    for; a service or a priority on the customer's promises (SLA) alone."""
    if dimension == Dimension.VENDOR:
        return UC_METRICS
    if dimension in (Dimension.GROUP, Dimension.TIER):
        return SLA_METRICS | OLA_METRICS
    return SLA_METRICS


def _clocks(dimension: Dimension, filters: Filters, *columns: Any) -> Select[Any]:
    """The stopped clocks of the period, joined to what the filters and dimension need."""
    query = (
        select(*columns)
        .select_from(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .join(_group, _group.id == func.coalesce(SlaClock.group_id, Ticket.assigned_group_id))
        .where(SlaClock.stopped_at >= filters.period.starts_at,
               SlaClock.stopped_at < filters.period.ends_at,
               SlaClock.metric.in_(sorted(metrics_for(dimension))))
    )
    if dimension == Dimension.VENDOR:
        query = query.join(VendorHandoff, VendorHandoff.id == SlaClock.handoff_id)
    return filtered(query, filters, service=Ticket.service_id, tier=_group.tier, group=_group.id)


def filtered(query: Select[Any], filters: Filters, *, service: Any, tier: Any, group: Any) -> Select[Any]:
    """``query`` kept to the filters' service, tier and group, as these columns name them."""
    for column, wanted in ((service, filters.service_id), (tier, filters.tier),
                           (group, filters.group_id)):
        if wanted is not None:
            query = query.where(column == wanted)
    return query


def compliance(dimension: Dimension, filters: Filters, *, english: bool = True) -> list[ComplianceRow]:
    key = _key(dimension)
    figures = (_totals_by_aggregate if db.session.get_bind().dialect.name == "postgresql"
               else _totals_by_windows)
    totals = sorted(figures(dimension, filters, key),
                    key=lambda row: (row[0], _METRIC_ORDER[Metric(row[1])]))
    labels = key_labels(dimension, {row[0] for row in totals}, english=english)
    return [
        ComplianceRow(key=row[0], label=labels.get(row[0], str(row[0])), metric=Metric(row[1]),
                      count=int(row[2]), breached=int(row[3] or 0), median_us=int(row[4] or 0),
                      p90_us=int(row[5] or 0))
        for row in totals
    ]


def _totals_by_windows(dimension: Dimension, filters: Filters, key: Any) -> list[Any]:
    """(key, metric, count, breached, median, p90) rows: the clocks ranked per key and metric
    by ``row_number()``, each percentile the smallest time whose rank is at least p·n."""
    partition = (key, SlaClock.metric)
    ranked = _clocks(
        dimension, filters,
        key.label("key"), SlaClock.metric.label("metric"), SlaClock.elapsed_us.label("elapsed"),
        case((_breached(), 1), else_=0).label("breached"),
        func.row_number().over(partition_by=partition, order_by=SlaClock.elapsed_us).label("rank"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()

    def percentile(p: int) -> Any:
        return func.min(case((ranked.c.rank * 100 >= ranked.c.n * p, ranked.c.elapsed)))

    return list(db.session.execute(
        select(ranked.c.key, ranked.c.metric, func.count(), func.sum(ranked.c.breached),
               percentile(50), percentile(90))
        .group_by(ranked.c.key, ranked.c.metric)
        .order_by(ranked.c.key, ranked.c.metric)
    ).all())


def _totals_by_aggregate(dimension: Dimension, filters: Filters, key: Any) -> list[Any]:
    """The same rows by PostgreSQL's ``percentile_disc``, twice as fast over a year of clocks.
    It takes the row at ceil(f·n), the nearest rank (for f = 0.5 and 0.9 the floating-point
    product never passes a whole number)."""

    def percentile(p: int) -> Any:
        return func.percentile_disc(p / 100).within_group(SlaClock.elapsed_us)

    return list(db.session.execute(
        _clocks(dimension, filters, key, SlaClock.metric, func.count(),
                func.sum(case((_breached(), 1), else_=0)), percentile(50), percentile(90))
        .group_by(key, SlaClock.metric)
        .order_by(key, SlaClock.metric)
    ).all())


def key_labels(dimension: Dimension, keys: set[int], *, english: bool) -> dict[int, str]:
    """Names for the keys of the rows: one query for all of them."""
    if dimension in (Dimension.PRIORITY, Dimension.TIER):
        prefix = "P" if dimension == Dimension.PRIORITY else ""
        return {k: f"{prefix}{k}" for k in keys}
    model: Any = {Dimension.SERVICE: Service, Dimension.GROUP: SupportGroup,
                  Dimension.VENDOR: Vendor}[dimension]
    rows = db.session.execute(select(model).where(model.id.in_(keys))).scalars()
    return {row.id: (getattr(row, "name_en", None) or row.name) if english else row.name
            for row in rows}


@dataclass(frozen=True)
class TicketBehind:
    reference: str
    subject: str
    confidential: bool
    priority: int
    metric: Metric
    elapsed_us: int
    target_us: int
    breached: bool
    stopped_at: datetime


def tickets_behind(dimension: Dimension, filters: Filters, *, key: int | None, metric: Metric | None,
                   outcome: str, limit: int = 500) -> list[TicketBehind]:
    """The clocks behind one figure of the report, filtered the same way, longest first."""
    query = _clocks(
        dimension, filters, Ticket.reference, Ticket.subject, Ticket.confidential, Ticket.priority,
        SlaClock.metric, SlaClock.elapsed_us, SlaClock.target_us, _breached(), SlaClock.stopped_at)
    if key is not None:
        query = query.where(_key(dimension) == key)
    if metric is not None:
        query = query.where(SlaClock.metric == metric)
    if outcome == "breached":
        query = query.where(_breached())
    elif outcome == "met":
        query = query.where(~_breached())
    rows = db.session.execute(
        query.order_by(SlaClock.elapsed_us.desc(), Ticket.reference).limit(limit)).all()
    return [TicketBehind(reference=r[0], subject=r[1], confidential=r[2], priority=r[3], metric=r[4],
                         elapsed_us=r[5], target_us=r[6], breached=bool(r[7]), stopped_at=r[8])
            for r in rows]
