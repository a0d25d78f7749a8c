"""Webhook subscriptions and the deliveries queued for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket

# Why the sender stopped a subscription (``stopped_reason``): its receiver answered 410 Gone.
GONE = "gone"


class WebhookSubscription(db.Model):  # type: ignore[name-defined]
    """A receiver (another service desk, a monitoring system) and the events it wants."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    # Kept readable: every delivery is signed with it (HMAC-SHA256), and the receiver holds
    # the same secret.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the sender stopped it (not an administrator), so the page can say why;
    # starting it again clears them.
    stopped_reason: Mapped[str | None] = mapped_column(String(20))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """One event for one subscription: written with the change, sent after it, until taken."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "delivered_at", "failed_at",
                            "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it is next due: its retry after a failure, or, while a sender posts it, the end of
    # that sender's claim (so a sender that dies mid-post leaves it to be posted again).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gave up
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    subscription: Mapped[WebhookSubscription] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.failed_at is not None:
            return "failed"
        return "retrying" if self.attempts else "queued"
