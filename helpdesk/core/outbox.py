"""The outbox: messages to send, committed with the change that caused them.

Writing a row here is part of the change's transaction, so a rolled-back change
notifies nobody. Sending (SMTP, retries) reads rows with ``sent_at`` empty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.bulk import queue_row
from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_email: Mapped[str] = mapped_column(String(254))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Mail headers: our Message-ID, and the thread it answers, so replies come back here.
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    auto_generated: Mapped[bool] = mapped_column(Boolean, default=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When a sender took the message to send it: its claim runs until next_attempt_at, and
    # ends with the outcome, so the outbox can tell a mail going out from one that failed.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def queue_message(*, kind: str, recipient_email: str, subject: str, body: str, now: datetime,
                  recipient_user_id: int | None = None, ticket_id: int | None = None,
                  locale: str = "sv", payload: dict[str, Any] | None = None,
                  html_body: str | None = None, message_id: str | None = None,
                  in_reply_to: str | None = None, references: str | None = None,
                  auto_generated: bool = True) -> None:
    # Every row carries every column: a bulk block inserts its rows in one executemany.
    row = {
        "kind": kind, "recipient_email": recipient_email, "recipient_user_id": recipient_user_id,
        "ticket_id": ticket_id, "locale": locale, "subject": subject, "body": body,
        "payload": payload or {}, "created_at": now, "sent_at": None, "attempts": 0,
        "message_id": message_id, "in_reply_to": in_reply_to, "references": references,
        "html_body": html_body, "auto_generated": auto_generated, "next_attempt_at": None,
        "last_error": None, "claimed_at": None,
    }
    if not queue_row(OutboxMessage.__table__, row):
        db.session.add(OutboxMessage(**row))
