"""Adding and stopping subscriptions (the administrators' page and the CLI call these)."""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import urlsplit

from marshmallow import ValidationError
from sqlalchemy import select

from helpdesk.core.errors import InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.schemas import TOO_LONG, storable
from helpdesk.webhooks.events import EVENTS
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

ADDRESS = N_("Give an http:// or https:// address.")


def add_subscription(*, name: str, url: str, events: list[str], now: datetime,
                     secret: str | None = None) -> WebhookSubscription:
    errors: dict[str, list[str]] = {}
    name, url = name.strip(), url.strip()
    if not name:
        errors["name"] = [N_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [TOO_LONG]
    elif (problem := _unstorable(name)) is not None:
        errors["name"] = [problem]
    if (problem := _address_problem(url)) is not None:
        errors["url"] = [problem]
    if not events or any(e not in EVENTS for e in events):
        errors["events"] = [N_("Choose at least one event.")]
    if errors:
        raise InvalidInput(errors)
    subscription = WebhookSubscription(name=name, url=url,
                                       secret=secret or secrets.token_urlsafe(32),
                                       events=sorted(set(events)), active=True, created_at=now)
    db.session.add(subscription)
    db.session.flush()
    return subscription


def _unstorable(text: str) -> str | None:
    try:
        storable(text)
    except ValidationError as exc:
        return str(exc.messages[0])
    return None


def _address_problem(url: str) -> str | None:
    """Why deliveries could not be posted to ``url``, or None. Checked here, once, rather
    than failing at every delivery."""
    if len(url) > 500:  # the column's length: cut, it would be another address
        return TOO_LONG
    if any(c.isspace() or not c.isprintable() for c in url):
        return ADDRESS
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a number from 0 to 65535
    except ValueError:  # e.g. "http://[::1/hook", an IPv6 address not closed
        return ADDRESS
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return ADDRESS
    return None


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    subscription.active = active
    db.session.flush()


def all_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def recent_deliveries(limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)))
