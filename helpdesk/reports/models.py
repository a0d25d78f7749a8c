"""A manager's decision on a monthly service-level report, with the report as decided."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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
