"""A manager's decision on a monthly service-level report, with the report as decided; report
subscriptions; and where each resolved ticket's time went."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.catalogue.models import Service


class Decision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class ServiceLevelReport(db.Model):  # type: ignore[name-defined]
    """One service's month. ``snapshot`` is the report exactly as the manager saw it: an
    approved report is shown from it for ever, never recomputed; a rejected one may be
    decided again."""

    __tablename__ = "service_level_reports"
    __table_args__ = (UniqueConstraint("service_id", "month", name="uq_service_level_reports_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-10"
    decision: Mapped[Decision] = mapped_column(value_enum(Decision, 10))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    service: Mapped[Service] = relationship()
    decided_by: Mapped[User] = relationship()


class ReportSubscription(db.Model):  # type: ignore[name-defined]
    """A lead's standing order for a report by mail, weekly or monthly. ``last_sent`` is
    the period last mailed ("2026-W44", "2026-10"): the scheduler's leader mails each
    period once, however often it ticks."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "report", "frequency",
                                       name="uq_report_subscriptions_user_report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    report: Mapped[str] = mapped_column(String(20))  # compliance, volume
    frequency: Mapped[str] = mapped_column(String(10))  # weekly, monthly
    last_sent: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class TicketTimeSpent(db.Model):  # type: ignore[name-defined]
    """Business time a resolved ticket spent with one holder (working, vendor, customer or
    approval: ``time_spent``) and group, worked out from its history when it was resolved
    (``time_ledger``), so that the report is one SUM. Rows of a reopened ticket are removed;
    its next resolution writes them again. ``tier`` is the group's tier at that time."""

    __tablename__ = "ticket_time_spent"
    __table_args__ = (
        # The report reads only this index (a month or a whole year in one range scan).
        Index("ix_ticket_time_spent_resolved", "resolved_at", "service_id", "group_id", "tier",
              "holder", "business_us", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"))
    tier: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(10))
    business_us: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
