"""Support groups (queues with a tier) and consultations between them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.tickets.models import Ticket


class GroupKind(enum.StrEnum):
    LOCAL_HELPDESK = "local_helpdesk"
    SERVICE_DESK = "service_desk"
    CENTRAL_SUPPORT = "central_support"
    EXPERT_GROUP = "expert_group"
    # Level-1 support given by the business itself, e.g. board secretaries for
    # the meeting-administration system.
    BUSINESS_SUPPORT = "business_support"


support_group_members = Table(
    "support_group_members",
    db.metadata,
    Column("group_id", Integer, ForeignKey("support_groups.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)


class SupportGroup(db.Model):  # type: ignore[name-defined]
    __tablename__ = "support_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[int] = mapped_column(Integer)
    kind: Mapped[GroupKind] = mapped_column(
        value_enum(GroupKind, 30)
    )
    email: Mapped[str | None] = mapped_column(String(254))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    members: Mapped[list[User]] = relationship(
        secondary=support_group_members, back_populates="groups", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<SupportGroup {self.code} tier {self.tier}>"


class ConsultationStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Consultation(db.Model):  # type: ignore[name-defined]
    """Borrowing another group's competence without moving the ticket."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"), index=True)
    status: Mapped[ConsultationStatus] = mapped_column(
        value_enum(ConsultationStatus, 20)
    )
    question: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="consultations")
    group: Mapped[SupportGroup] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
