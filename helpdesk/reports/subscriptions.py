"""Scheduled report mails: a lead subscribes to a report, weekly or monthly, and the
scheduler's leader mails each finished period once through the outbox.

A new subscription counts the period just finished as sent, so the first mail comes when
the next period ends. Each period's report is computed once per tick for all its
subscribers (SQL aggregates), and each mail is queued in the lead's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import or_, select

from helpdesk.accounts.models import Role, User
from helpdesk.config import Settings
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.core.outbox import queue_message
from helpdesk.extensions import db
from helpdesk.mail.compose import locale_for
from helpdesk.reports.compliance import METRIC_LABELS, Dimension, Filters, compliance
from helpdesk.reports.models import ReportSubscription
from helpdesk.reports.period import Period, local_today, previous_month
from helpdesk.reports.time_report import COLUMN_LABELS, COLUMNS, where_time_went
from helpdesk.reports.volume import volume

REPORTS = {"compliance": N_("SLA compliance"), "time": N_("Where the time went"),
           "volume": N_("Volume and trends")}
FREQUENCIES = {"weekly": N_("weekly"), "monthly": N_("monthly")}
MANAGERS = frozenset({Role.LEAD, Role.ADMIN})


def last_period(frequency: str, now: datetime) -> tuple[str, Period]:
    """The last whole local week (Monday–Sunday) or month before ``now``."""
    today = local_today(now)
    if frequency == "monthly":
        period = previous_month(today)
        return f"{period.first_day:%Y-%m}", period
    monday = today - timedelta(days=today.weekday() + 7)
    period = Period(monday, monday + timedelta(days=6))
    return monday.strftime("%G-W%V"), period


def subscriptions_of(user: User) -> list[ReportSubscription]:
    return list(db.session.scalars(select(ReportSubscription).where(
        ReportSubscription.user_id == user.id).order_by(ReportSubscription.id)))


def subscribe(user: User, *, report: str, frequency: str, now: datetime) -> ReportSubscription:
    if user.role not in MANAGERS:
        raise NotFound(N_("Not found."))
    if report not in REPORTS or frequency not in FREQUENCIES:
        raise DomainError(N_("Choose a report and how often."))
    if any(s.report == report and s.frequency == frequency for s in subscriptions_of(user)):
        raise DomainError(N_("You already get this report this often."))
    row = ReportSubscription(user_id=user.id, report=report, frequency=frequency,
                             last_sent=last_period(frequency, now)[0], created_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def unsubscribe(user: User, subscription_id: int) -> None:
    row = db.session.get(ReportSubscription, subscription_id)
    if row is None or row.user_id != user.id:
        raise NotFound(N_("Not found."))
    db.session.delete(row)
    db.session.flush()


def _content(report: str, period: Period, now: datetime, locale: str) -> dict[str, Any]:
    if report == "compliance":
        return {"rows": compliance(Dimension.SERVICE, Filters(period), english=locale != "sv")}
    if report == "time":
        return {"rows": where_time_went(Dimension.SERVICE, Filters(period), english=locale != "sv"),
                "columns": COLUMNS, "column_labels": COLUMN_LABELS}
    return {"volume": volume(period, unit="week", now=now)}


def send_due(*, now: datetime, settings: Settings) -> int:
    """Queue the mails of every subscription whose last finished period is not mailed yet,
    each in the lead's language, else the organisation's default, as every other mail."""
    sent = 0
    computed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for frequency in FREQUENCIES:
        key, period = last_period(frequency, now)
        due = db.session.scalars(select(ReportSubscription).where(
            ReportSubscription.frequency == frequency,
            or_(ReportSubscription.last_sent.is_(None), ReportSubscription.last_sent != key))
            .order_by(ReportSubscription.id)).all()
        for subscription in due:
            user = subscription.user
            subscription.last_sent = key
            if not user.active or user.role not in MANAGERS:
                continue  # no longer a manager: nothing is mailed, the order stays for a return
            locale = locale_for(user, settings)
            content = computed.get((subscription.report, key, locale))
            if content is None:
                content = computed[(subscription.report, key, locale)] = _content(
                    subscription.report, period, now, locale)
            with force_locale(locale):
                subject = render_template("emails/report_subject.txt", report=subscription.report,
                                          reports=REPORTS, key=key).strip()
                body = render_template("emails/report.txt", report=subscription.report,
                                       reports=REPORTS, period=period, key=key,
                                       metric_labels=METRIC_LABELS, **content)
            queue_message(kind="report", recipient_email=user.email, recipient_user_id=user.id,
                          subject=subject, body=body, now=now, locale=locale)
            sent += 1
    db.session.flush()
    return sent
