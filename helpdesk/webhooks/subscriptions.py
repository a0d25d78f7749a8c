"""Adding and stopping subscriptions (the administrators' page and the CLI call these)."""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from helpdesk.core.errors import InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.webhooks.events import EVENTS
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription


def add_subscription(*, name: str, url: str, events: list[str], now: datetime,
                     secret: str | None = None) -> WebhookSubscription:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [N_("This field is required.")]
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors["url"] = [N_("Give an http:// or https:// address.")]
    if not events or any(e not in EVENTS for e in events):
        errors["events"] = [N_("Choose at least one event.")]
    if errors:
        raise InvalidInput(errors)
    subscription = WebhookSubscription(name=name.strip()[:100], url=url.strip()[:500],
                                       secret=secret or secrets.token_urlsafe(32),
                                       events=sorted(set(events)), active=True, created_at=now)
    db.session.add(subscription)
    db.session.flush()
    return subscription


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    subscription.active = active
    db.session.flush()


def all_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def recent_deliveries(limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)))
