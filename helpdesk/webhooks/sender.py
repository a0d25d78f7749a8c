"""Sending queued deliveries: signed POSTs, retried with growing pauses, then given up.

Each request carries ``X-Helpdesk-Delivery: <id>`` (the same on every retry) and
``X-Helpdesk-Signature: t=<unix time>,v1=<hex>``, where ``v1`` is HMAC-SHA256 with the
subscription's secret over ``"<t>.<id>." + body``. A receiver recomputes it and refuses
old timestamps, so a captured request can be neither replayed later nor, while it is
recent, replayed under another delivery id (which the receiver would not drop as a
repeat). ``t`` is read as each post goes out, not when the run began: a run behind slow
receivers lasts a while, and its later posts would fail the receiver's age check.

A receiver that answers 410 Gone says the address will never take a post again: the
delivery is given up at once and its subscription stopped, its other deliveries held
until an administrator starts it again. Every other failure is retried, a 404 or 403
too: a receiver misconfigured for a while should not lose its events.

Deliveries are not in order: a failed one waits for its retry while later ones for the
same ticket go out. A receiver orders by the payload's ``occurred_at``.

Several schedulers may send at once (a lease taken over while its old holder is still
posting). Each delivery is claimed before its post: ``next_attempt_at`` is moved
``CLAIM`` ahead by an update that only succeeds while the delivery is due, committed
before the post, so no other sender takes it meanwhile. If its sender dies mid-post,
the claim runs out and the delivery is posted again: delivery is at least once, and a
receiver recognises a repeat by ``X-Helpdesk-Delivery``. No transaction is open while
a receiver answers: on SQLite another writer's commit would leave it unable to write
the outcome. Each outcome is committed as soon as it is known.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import write_intent
from helpdesk.extensions import db
from helpdesk.webhooks import http_post
from helpdesk.webhooks.models import GONE, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # 1, 2, 4 … minutes, at most an hour apart: about four hours in all
# One run's posts (the scheduler's tick waits for them): after this, the rest wait for
# the next run, so a batch of dead receivers cannot hold up the SLA sweep and the mail.
RUN_SECONDS = 30
BATCH = 100
# How long a sender holds the delivery it posts: far longer than a post can last
# (http_post.POST_DEADLINE_SECONDS), short beside the retries.
CLAIM = timedelta(minutes=5)
# What is kept of an error: a receiver chooses its reason phrase and Location header,
# and the delivery log shows them.
ERROR_LENGTH = 300
def sign(secret: str, timestamp: int, delivery: str, body: bytes) -> str:
    """The X-Helpdesk-Signature header of a post: ``delivery`` is its X-Helpdesk-Delivery."""
    signed = f"{timestamp}.{delivery}.".encode() + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, delivery: str, body: bytes, *, now: datetime,
           tolerance: timedelta = timedelta(minutes=5)) -> bool:
    """What a receiver does (our tests do it too): the signature matches this delivery id
    and body, and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, timestamp, delivery, body), header)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def shortened(error: str) -> str:
    return error if len(error) <= ERROR_LENGTH else error[:ERROR_LENGTH - 1] + "…"


@dataclass
class SendResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ClaimedDelivery:
    """All a claimed delivery's post needs, read with the claim: nothing is loaded, and no
    transaction open, while the receiver answers."""

    delivery_id: int
    subscription_id: int
    event: str
    url: str
    secret: str
    body: bytes
    attempts: int  # before this post
    claimed_until: datetime


def _post(delivery: ClaimedDelivery, sent_at: datetime) -> tuple[int | None, str | None]:
    delivery_id = str(delivery.delivery_id)
    return http_post.post(delivery.url, delivery.body, {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-webhooks/1",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": delivery_id,
        "X-Helpdesk-Signature": sign(delivery.secret, int(sent_at.timestamp()), delivery_id,
                                     delivery.body),
    })


def _due(now: datetime) -> ColumnElement[bool]:
    """Not settled, not waiting for its retry or held by a sender's claim, and for a
    subscription that is started."""
    return and_(
        WebhookDelivery.delivered_at.is_(None), WebhookDelivery.failed_at.is_(None),
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        WebhookDelivery.subscription_id.in_(
            select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))))


def claim_next(now: datetime) -> ClaimedDelivery | None:
    """The oldest due delivery, held for this sender until ``now + CLAIM``; committed, so
    every other sender sees the claim before the post begins. None when nothing is due."""
    while True:
        candidate = db.session.scalar(
            select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.id).limit(1))
        if candidate is None:
            db.session.commit()  # ends the read (on SQLite, lets go of the write lock)
            return None
        # Due again in the update itself: of two senders that chose the same delivery, the
        # second finds it claimed (PostgreSQL re-reads the row once the first commits).
        claimed = db.session.scalar(
            update(WebhookDelivery).where(WebhookDelivery.id == candidate, _due(now))
            .values(next_attempt_at=now + CLAIM).returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False))
        if claimed is not None:
            break
        db.session.commit()  # another sender's: look for the next one
    row = db.session.execute(
        select(WebhookDelivery.event, WebhookDelivery.payload, WebhookDelivery.attempts,
               WebhookDelivery.subscription_id, WebhookSubscription.url,
               WebhookSubscription.secret)
        .join(WebhookDelivery.subscription).where(WebhookDelivery.id == claimed)).one()
    db.session.commit()
    body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()
    return ClaimedDelivery(delivery_id=claimed, subscription_id=row.subscription_id,
                           event=row.event, url=row.url, secret=row.secret, body=body,
                           attempts=row.attempts, claimed_until=now + CLAIM)


def _record(delivery: ClaimedDelivery, status: int | None, error: str | None, ended: datetime,
            result: SendResult) -> None:
    """The post's outcome, which also ends the claim; its times from when the post ended."""
    attempts = delivery.attempts + 1
    gone = status == 410 and _stop_gone(delivery, ended)
    outcome: dict[str, Any] = {"attempts": attempts, "last_status": status,
                               "last_error": None if error is None else shortened(error),
                               "next_attempt_at": None}
    if status is not None and 200 <= status < 300:
        outcome.update(delivered_at=ended, last_error=None)
        counted = "delivered"
    elif gone or attempts >= MAX_ATTEMPTS:
        outcome.update(failed_at=ended)
        counted = "failed"
    else:
        outcome.update(next_attempt_at=ended + backoff(attempts))
        counted = "retrying"
    # Only while the claim is still this sender's: a post that outlasted it may have been
    # posted again by another sender, whose outcome is the one to keep.
    written: int = db.session.execute(  # type: ignore[attr-defined]
        update(WebhookDelivery).where(WebhookDelivery.id == delivery.delivery_id,
                                      WebhookDelivery.next_attempt_at == delivery.claimed_until)
        .values(outcome).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if written:
        setattr(result, counted, getattr(result, counted) + 1)


def _stop_gone(delivery: ClaimedDelivery, ended: datetime) -> bool:
    """Stops the subscription of a post answered 410 Gone, unless its address has changed
    since the post (or it was deleted): the new address has not said it is gone, and the
    delivery is retried there. The stop stands even if another sender has taken the
    delivery over meanwhile: it is the receiver's word, not this post's outcome."""
    stopped: int = db.session.execute(  # type: ignore[attr-defined]
        update(WebhookSubscription)
        .where(WebhookSubscription.id == delivery.subscription_id,
               WebhookSubscription.url == delivery.url)
        .values(active=False, stopped_reason=GONE, stopped_at=ended)
        .execution_options(synchronize_session=False)).rowcount
    if stopped:
        log.warning("webhook subscription %d stopped: its receiver answered 410 Gone",
                    delivery.subscription_id)
    return bool(stopped)


def send_due(*, clock: Callable[[], datetime] = utcnow, now: datetime | None = None,
             limit: int = BATCH, seconds: float = RUN_SECONDS) -> SendResult:
    """Post what is due, oldest first, up to ``limit`` deliveries; each claim and each
    outcome is committed at once. No new post begins once ``seconds`` have passed (its
    callers wait for the run): what is left is due at the next run, its attempts unused.

    ``clock`` is read for each claim, each signature and each outcome. ``now`` fixes one
    time for the whole run instead (a test stepping through the retries). A stopped
    subscription's deliveries wait, without using up attempts, until it is started again."""
    fixed = now
    read = clock if fixed is None else lambda: fixed
    result = SendResult()
    # Real time, whatever ``clock`` says: it is the caller's wait that is bounded.
    stop_at = time.monotonic() + seconds
    # On SQLite each claim and outcome begins with the write lock (BEGIN IMMEDIATE): a
    # read first would make a snapshot that another writer's commit leaves unwritable.
    token = write_intent.set(True)
    try:
        # The first claim's commit would end the caller's transaction anyway: ended here,
        # so that the claim begins one of its own, with the write lock.
        db.session.commit()
        for _ in range(limit):
            if time.monotonic() >= stop_at:
                break
            delivery = claim_next(read())
            if delivery is None:
                break
            status, error = _post(delivery, read())
            _record(delivery, status, error, read(), result)
    finally:
        write_intent.reset(token)
    return result
