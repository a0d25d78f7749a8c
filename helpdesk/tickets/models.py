"""Tickets, their messages and attachments, and their append-only history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.catalogue.models import Service
    from helpdesk.org.models import OrgUnit
    from helpdesk.sla.models import SlaClock
    from helpdesk.tiers.models import Consultation, SupportGroup



class TicketType(enum.StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"


class Channel(enum.StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"
    PHONE = "phone"


class ReferenceCounter(db.Model):  # type: ignore[name-defined]
    """The last ticket number given out in a year (HD-2026-000042)."""

    __tablename__ = "ticket_reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(db.Model):  # type: ignore[name-defined]
    __tablename__ = "tickets"
    __table_args__ = (
        # The agent queue: one group's tickets in a status, newest first or by priority.
        Index("ix_tickets_queue", "assigned_group_id", "status", "created_at"),
        Index("ix_tickets_queue_priority", "assigned_group_id", "status", "priority"),
        Index("ix_tickets_owner_status", "owner_group_id", "status"),
        Index("ix_tickets_requester", "requester_id", "created_at"),
        # A queue by SLA due time in the index's order, whatever set of states it shows
        # (with the state second, "active" would read the group's every active ticket and
        # sort them). Tickets without a running clock have no due time and come last.
        Index("ix_tickets_queue_sla_due", "assigned_group_id", "sla_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[TicketType] = mapped_column(value_enum(TicketType, 20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    impact: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30))
    owner_group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"))
    assigned_group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[Channel] = mapped_column(value_enum(Channel, 10))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The same for what its requester can see (tickets.history.changes_what_requester_sees):
    # an internal note moves version and updated_at, not these, so the requester's API
    # answers (their ETag, updated_at, updated_since) say nothing of staff's own work.
    public_version: Mapped[int] = mapped_column(Integer, nullable=False)
    public_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The nearest due time of the ticket's running clocks and whether any is at risk or
    # breached (ok, at_risk, breached; empty without an SLA): what queues sort and mark by.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_state: Mapped[str | None] = mapped_column(String(10))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    org_unit: Mapped[OrgUnit | None] = relationship()
    service: Mapped[Service] = relationship()
    owner_group: Mapped[SupportGroup] = relationship(foreign_keys=[owner_group_id])
    assigned_group: Mapped[SupportGroup] = relationship(foreign_keys=[assigned_group_id])
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id"
    )
    consultations: Mapped[list[Consultation]] = relationship(
        back_populates="ticket", order_by="Consultation.id"
    )
    clocks: Mapped[list[SlaClock]] = relationship(back_populates="ticket", order_by="SlaClock.id")

    @property
    def description_attachments(self) -> list[Attachment]:
        """The files sent with the ticket itself; a message's files are the message's."""
        return [attachment for attachment in self.attachments if attachment.message_id is None]

    @property
    def tier(self) -> int:
        return self.assigned_group.tier

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status}>"


class Message(db.Model):  # type: ignore[name-defined]
    """A public reply (the requester sees it) or an internal note (staff only)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The Message-ID of the mail it came in as, so replies to that mail thread here.
    mail_message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    html_body: Mapped[str | None] = mapped_column(Text)  # sanitised, when it came as HTML mail

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


class Attachment(db.Model):  # type: ignore[name-defined]
    """A file kept on disk under the instance folder; the row says what it is."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    message: Mapped[Message | None] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class TicketEvent(db.Model):  # type: ignore[name-defined]
    """One thing that happened to a ticket. Rows are only ever added."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    from_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    to_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    from_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[from_group_id])
    to_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[to_group_id])


class HistoryIsAppendOnly(RuntimeError):
    """Someone tried to change or delete a ticket's history."""


@event.listens_for(Session, "before_flush")
def _refuse_history_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TicketEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise HistoryIsAppendOnly(f"ticket history row {obj.id} may not be changed or deleted")
