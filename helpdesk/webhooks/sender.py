"""Sending queued deliveries: signed POSTs, retried with growing pauses, then given up.

Each request carries ``X-Helpdesk-Signature: t=<unix time>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 with the subscription's secret over ``"<t>." + body``; a receiver
recomputes it and refuses old timestamps, so a captured request cannot be replayed
later. Each delivery is committed as soon as its answer is known.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from helpdesk.extensions import db
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

MAX_ATTEMPTS = 10  # 1, 2, 4 … minutes, at most an hour apart: about four hours in all
TIMEOUT_SECONDS = 10
BATCH = 100


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: datetime,
           tolerance: timedelta = timedelta(minutes=5)) -> bool:
    """What a receiver does (our tests do it too): the signature matches and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


@dataclass
class SendResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301-303 with a GET that carries no body, and the 200 at the
    # end would count as delivered. A redirect is a failed post: the URL needs changing.
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str | None]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(delivery.subscription.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-webhooks/1",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.id),
        "X-Helpdesk-Signature": sign(delivery.subscription.secret, int(now.timestamp()), body),
    })
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        moved = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        return exc.code, f"HTTP {exc.code} {exc.reason}" + (f" -> {moved}" if moved else "")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))
    except (http.client.HTTPException, ValueError) as exc:  # e.g. an answer that is not HTTP
        return None, f"{type(exc).__name__}: {exc}"


def send_due(*, now: datetime, limit: int = BATCH) -> SendResult:
    """Send what is due now; each delivery's outcome is committed at once.

    A stopped subscription's deliveries wait, without using up attempts, until it is
    started again."""
    result = SendResult()
    due = db.session.scalars(
        select(WebhookDelivery).join(WebhookDelivery.subscription).where(
            WebhookSubscription.active.is_(True),
            WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None),
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.id).limit(limit)
    ).all()
    for delivery in due:
        status, error = _post(delivery, now)
        delivery.attempts += 1
        delivery.last_status = status
        if status is not None and 200 <= status < 300:
            delivery.delivered_at, delivery.last_error, delivery.next_attempt_at = now, None, None
            result.delivered += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.failed_at, delivery.last_error, delivery.next_attempt_at = now, error, None
            result.failed += 1
        else:
            delivery.last_error = error
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            result.retrying += 1
        db.session.commit()
    return result
