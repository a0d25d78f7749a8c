"""Mailboxes we read, and every message that came in with what became of it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.catalogue.models import Service
    from helpdesk.tickets.models import Message, Ticket
    from helpdesk.tiers.models import SupportGroup


class Mailbox(db.Model):  # type: ignore[name-defined]
    """An address the helpdesk receives at: by IMAP polling, by the MTA pipe, or both.

    New tickets from it go to its service (and, if named, straight to its group).
    The IMAP password is never stored: ``imap_password_env`` names the variable.
    """

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    imap_host: Mapped[str | None] = mapped_column(String(200))
    imap_port: Mapped[int] = mapped_column(Integer, default=143)
    imap_user: Mapped[str | None] = mapped_column(String(200))
    imap_password_env: Mapped[str | None] = mapped_column(String(100))
    imap_folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    imap_ssl: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    service: Mapped[Service] = relationship()
    group: Mapped[SupportGroup | None] = relationship()


class Outcome(enum.StrEnum):
    NEW_TICKET = "new_ticket"
    REPLY = "reply"  # a message on an existing ticket
    BOUNCE = "bounce"  # an internal note on the ticket the bounced mail was about
    IGNORED = "ignored"  # auto-replies and reports: kept, answered by nobody
    QUARANTINED = "quarantined"
    RELEASED = "released"  # taken out of quarantine by an administrator and handled


class InboundMail(db.Model):  # type: ignore[name-defined]
    """One message received, stored raw on disk, and what the helpdesk made of it.

    ``dedup_key`` makes receiving idempotent: the same message fetched twice (a
    crash between our commit and the IMAP flag, an MTA retry) is recognised.
    """

    __tablename__ = "inbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id"))
    sender: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    size: Mapped[int] = mapped_column(Integer)
    raw_path: Mapped[str] = mapped_column(String(300))  # under the instance's mail folder
    outcome: Mapped[Outcome] = mapped_column(value_enum(Outcome, 20), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    mailbox: Mapped[Mailbox | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
    ticket_message: Mapped[Message | None] = relationship()
    released_by: Mapped[User | None] = relationship()
