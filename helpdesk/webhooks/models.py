"""Webhook subscriptions and the deliveries queued for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
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
    # AUTOINCREMENT: SQLite would hand the highest id out again once it is deleted, and a
    # stale page of a deleted subscription would then change the new one. (PostgreSQL's
    # sequences never go back.)
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    # Kept readable: every delivery is signed with it (HMAC-SHA256), and the receiver holds
    # the same secret.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The support groups (by code, which the organisation file keeps for good; a name may
    # change) whose tickets it is sent; none: every ticket. See events.ticket_groups.
    group_codes: Mapped[list[str]] = mapped_column(JSON, default=list,
                                                   server_default=text("'[]'"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the sender stopped it (not an administrator), so the page can say why;
    # starting it again clears them.
    stopped_reason: Mapped[str | None] = mapped_column(String(20))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """One event for one subscription: written with the change, sent after it, until taken."""

    __tablename__ = "webhook_deliveries"
    # AUTOINCREMENT: the id is X-Helpdesk-Delivery, which a receiver drops when it has had it
    # already; SQLite would give a deleted subscription's highest ids to the next deliveries.
    __table_args__ = (Index("ix_webhook_deliveries_due", "delivered_at", "failed_at",
                            "next_attempt_at"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleted with their subscription by the database itself, those a change queues while it
    # is deleted too (see subscriptions.delete_subscription).
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
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
