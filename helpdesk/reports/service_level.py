"""The monthly service-level report per service, in the shape a city's IT contract asks for:
targets, results, breaches with ticket references, and service credits; approved or rejected
by a manager with a comment.

The report is a plain JSON-able dict (the snapshot), so an approved month is shown from its
stored snapshot exactly as approved, and a live month from a fresh one, by the same template.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.reports import credits
from helpdesk.reports.compliance import Dimension, Filters, compliance, tickets_behind
from helpdesk.reports.models import Decision, ServiceLevelReport
from helpdesk.reports.period import Period
from helpdesk.sla.models import SLA_METRICS, Metric

HOUR_US = 3_600_000_000
METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)


def _hours(us: int) -> float:
    return round(us / HOUR_US, 2)


def build(service: Service, period: Period, *, now: datetime) -> dict[str, Any]:
    """The month's report, computed now from the clocks (a handful of SQL aggregates)."""
    policy = service.sla_policy
    filters = Filters(period, service_id=service.id)
    totals = {row.metric: row for row in compliance(Dimension.SERVICE, filters)}
    per_priority = compliance(Dimension.PRIORITY, filters)
    rules = (policy.service_credits or {}) if policy else {}
    results: list[dict[str, Any]] = []
    for metric in METRICS:
        row = totals.get(metric)
        count, breached = (row.count, row.breached) if row else (0, 0)
        rule = credits.CreditRule.from_data(rules[metric.value]) if metric.value in rules else None
        results.append({
            "metric": metric.value, "count": count, "met": count - breached, "breached": breached,
            "met_percent": row.met_percent if row else None,
            "median_hours": _hours(row.median_us) if row else None,
            "p90_hours": _hours(row.p90_us) if row else None,
            "target_percent": str(rule.target_percent) if rule else None,
            "points_under": credits.points_under(rule, count - breached, count) if rule else 0,
            "credit_percent": str(credits.credit_percent(rule, count - breached, count)) if rule
            else "0",
        })
    breaches = tickets_behind(Dimension.SERVICE, filters, key=service.id, metric=None,
                              outcome="breached", limit=10_000)
    return {
        "service": {"id": service.id, "code": service.code, "name": service.name,
                    "name_en": service.name_en},
        "month": period.month_key or f"{period.first_day}–{period.last_day}",
        "first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(),
        "timezone": period.timezone,
        "policy": {"code": policy.code, "name": policy.name,
                   "calendar": policy.calendar.name} if policy else None,
        "targets": {priority: {m: minutes for m, minutes in metrics.items() if m in SLA_METRICS}
                    for priority, metrics in sorted((policy.targets or {}).items())} if policy
        else {},
        "results": results,
        "per_priority": [{"priority": r.key, "metric": r.metric.value, "count": r.count,
                          "breached": r.breached, "met_percent": r.met_percent}
                         for r in per_priority],
        "breaches": [{"reference": b.reference, "metric": b.metric.value,
                      "hours": _hours(b.elapsed_us), "target_hours": _hours(b.target_us),
                      "stopped_at": b.stopped_at.isoformat()} for b in breaches],
        "total_credit_percent": str(sum((Decimal(r["credit_percent"]) for r in results),
                                        start=Decimal(0))),
        "computed_at": now.isoformat(),
    }


def decision_for(service: Service, period: Period) -> ServiceLevelReport | None:
    return db.session.scalar(select(ServiceLevelReport).where(
        ServiceLevelReport.service_id == service.id,
        ServiceLevelReport.month == period.month_key))


def report(service: Service, period: Period, *, now: datetime) -> dict[str, Any]:
    """The report to show: an approved month as it was approved, else computed now."""
    decided = decision_for(service, period)
    if decided is not None and decided.decision == Decision.APPROVED:
        return decided.snapshot
    return build(service, period, now=now)


def decide(service: Service, period: Period, *, decision: Decision, comment: str, actor: User,
           now: datetime) -> ServiceLevelReport:
    """Approve or reject a finished month. Approval freezes the report as it stands."""
    if period.month_key is None:
        raise DomainError(N_("Only a whole calendar month can be approved or rejected."))
    if period.ends_at > now:
        raise DomainError(N_("The month is not over yet; decide on it when it has ended."))
    if decision == Decision.REJECTED and not comment.strip():
        raise DomainError(N_("Say why the report is rejected."))
    row = decision_for(service, period)
    if row is not None and row.decision == Decision.APPROVED:
        raise DomainError(N_("This report was approved; an approved report is kept unchanged."))
    snapshot = build(service, period, now=now)  # before the new row, which autoflush would write
    if row is None:
        row = ServiceLevelReport(service_id=service.id, month=period.month_key)
        db.session.add(row)
    row.decision = decision
    row.comment = comment.strip()
    row.decided_by = actor
    row.decided_at = now
    row.snapshot = snapshot
    db.session.flush()
    return row
