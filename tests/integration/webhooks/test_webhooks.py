"""Webhooks against a real HTTP receiver on 127.0.0.1: what is posted, signed, retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.sla.sweep import sweep_all
from helpdesk.tickets.history import record
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.webhooks import http_post
from helpdesk.webhooks.http_post import TIMEOUT_SECONDS
from helpdesk.webhooks.models import WebhookDelivery
from helpdesk.webhooks.sender import (
    CLAIM,
    ERROR_LENGTH,
    MAX_ATTEMPTS,
    SendResult,
    send_due,
    verify,
)
from helpdesk.webhooks.subscriptions import add_subscription, set_active
from tests.conftest import NOW
from tests.integration.sla.checks import sthlm
from tests.integration.webhooks.support import Trickle, deliveries, queue_committed


class SteppingClock:
    """Stands still until moved on: a slow receiver moves it by as long as it takes."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def signed_at(header: str) -> int:
    return int(dict(part.split("=", 1) for part in header.split(","))["t"])


def send_from(app: Any) -> SendResult:
    with app.app_context():
        try:
            return send_due(clock=utcnow)
        finally:
            db.session.remove()


def test_subscribed_events_are_posted_signed_after_the_change(factory, org, settings, receiver):
    subscription = add_subscription(name="Regionens servicedesk", url=receiver.url,
                                    events=["ticket.created", "ticket.escalated"], now=NOW)
    ticket = factory.ticket(org.requester, org.service)
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Nätverket",
                    now=NOW + timedelta(minutes=5), settings=settings)
    assert receiver.received == []  # nothing leaves before the sender runs (after the commit)
    assert [d.event for d in deliveries()] == ["ticket.created", "ticket.escalated"]

    result = send_due(now=NOW + timedelta(minutes=5))

    assert (result.delivered, result.retrying) == (2, 0)
    created, escalated = receiver.json(0), receiver.json(1)
    assert created["event"] == "ticket.created"
    assert created["ticket"]["reference"] == ticket.reference
    assert created["ticket"]["subject"] == "Skrivaren skriver inte ut"
    # As the README says: without the version (read the ticket for an If-Match) and files.
    assert {"version", "attachments"}.isdisjoint(created["ticket"])
    assert escalated["details"] == {
        "from_group": "local", "to_group": "level2", "reason": "Nätverket",
        "from_tier": 1, "to_tier": 2}
    for n, sent in enumerate(receiver.received):
        headers = sent["headers"]
        signature, delivery = headers["X-Helpdesk-Signature"], headers["X-Helpdesk-Delivery"]
        assert headers["X-Helpdesk-Event"] == receiver.json(n)["event"]
        assert verify(subscription.secret, signature, delivery, sent["body"],
                      now=NOW + timedelta(minutes=5))
        assert not verify("another secret", signature, delivery, sent["body"],
                          now=NOW + timedelta(minutes=5))
        assert not verify(subscription.secret, signature, delivery, sent["body"] + b" ",
                          now=NOW + timedelta(minutes=5))
    assert all(d.state == "delivered" for d in deliveries())
    assert send_due(now=NOW + timedelta(hours=1)).delivered == 0  # never twice


def test_a_signature_is_refused_when_replayed_later(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    send_due(now=NOW)
    sent = receiver.received[0]
    header, delivery = sent["headers"]["X-Helpdesk-Signature"], sent["headers"]["X-Helpdesk-Delivery"]
    assert verify(subscription.secret, header, delivery, sent["body"], now=NOW)
    assert not verify(subscription.secret, header, delivery, sent["body"],
                      now=NOW + timedelta(hours=1))


def test_a_signature_is_refused_when_replayed_under_another_delivery_id(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    factory.ticket(org.requester, org.service)
    send_due(now=NOW)
    first, second = receiver.received
    header = first["headers"]["X-Helpdesk-Signature"]
    assert verify(subscription.secret, header, first["headers"]["X-Helpdesk-Delivery"],
                  first["body"], now=NOW)
    # Within the age window, the captured post sent again as a delivery the receiver has
    # not had yet: it would not be dropped as a repeat.
    assert not verify(subscription.secret, header, second["headers"]["X-Helpdesk-Delivery"],
                      first["body"], now=NOW)


def test_a_receiver_checks_the_signature_by_the_documented_recipe(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    send_due(now=NOW)
    [sent] = receiver.received
    headers = sent["headers"]
    parts = dict(part.split("=", 1) for part in headers["X-Helpdesk-Signature"].split(","))
    # As the README tells a receiver: "<t>.<X-Helpdesk-Delivery>." and the body, as sent.
    signed = f"{parts['t']}.{headers['X-Helpdesk-Delivery']}.".encode() + sent["body"]
    expected = hmac.new(subscription.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    # "compact JSON with its keys sorted", so the README's example begins as the body does.
    assert sent["body"].startswith(b'{"actor":')
    assert sent["body"] == json.dumps(json.loads(sent["body"]), separators=(",", ":"),
                                      sort_keys=True).encode()


def test_a_failed_delivery_is_retried_with_growing_pauses(factory, org, receiver):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [503, 500]

    assert send_due(now=NOW).retrying == 1
    [delivery] = deliveries()
    assert (delivery.attempts, delivery.last_status, delivery.next_attempt_at) == (
        1, 503, NOW + timedelta(minutes=1))
    assert "503" in (delivery.last_error or "")
    assert send_due(now=NOW + timedelta(seconds=59)).retrying == 0  # not due yet
    assert send_due(now=NOW + timedelta(minutes=1)).retrying == 1
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1 + 2)
    assert send_due(now=NOW + timedelta(minutes=3)).delivered == 1
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 3, None)
    assert len(receiver.received) == 3
    # The same delivery each time: a receiver can recognise repeats by the delivery id.
    assert {r["headers"]["X-Helpdesk-Delivery"] for r in receiver.received} == {
        str(delivery.id)}


def test_an_unreachable_receiver_is_given_up_after_the_last_attempt(factory, org, receiver):
    receiver.server.shutdown()
    receiver.server.server_close()
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        send_due(now=moment)
        [delivery] = deliveries()
        moment = delivery.next_attempt_at or moment
    assert delivery.state == "failed"
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_status is None and delivery.last_error
    assert send_due(now=moment + timedelta(days=1)).failed == 0


def test_only_active_subscriptions_to_the_event_get_it_and_a_rollback_posts_nothing(
        factory, org, session, receiver):
    add_subscription(name="breaches", url=receiver.url, events=["ticket.sla_breach"], now=NOW)
    stopped = add_subscription(name="stopped", url=receiver.url, events=["ticket.created"], now=NOW)
    stopped.active = False
    factory.ticket(org.requester, org.service)
    assert deliveries() == []

    savepoint = session.begin_nested()
    ticket = factory.ticket(org.requester, org.service)
    record(ticket, "sla_breach", actor=None, now=NOW, clock_id=1)
    assert [d.event for d in deliveries()] == ["ticket.sla_breach"]
    savepoint.rollback()
    assert deliveries() == []


def test_vendor_handoffs_sla_warnings_and_workflow_steps_map_to_their_events(factory, org):
    add_subscription(name="all", url="http://127.0.0.1:9/", now=NOW, events=[
        "ticket.transitioned", "ticket.handed_to_vendor", "ticket.sla_warning"])
    ticket = factory.ticket(org.requester, org.service)
    steps = {"taken": "in_progress", "resolved": "resolved", "requester_replied": None}
    for kind in ("taken", "noted", "handed_to_vendor", "sla_warning", "resolved",
                 "requester_replied"):
        record(ticket, kind, actor=None, now=NOW, to_status=steps.get(kind))
    # A requester's word on a ticket that waited for none is no step: nothing is posted.
    assert [(d.event, d.payload["kind"]) for d in deliveries()] == [
        ("ticket.transitioned", "taken"), ("ticket.handed_to_vendor", "handed_to_vendor"),
        ("ticket.sla_warning", "sla_warning"), ("ticket.transitioned", "resolved")]


def test_a_confidential_ticket_leaves_without_its_subject_and_text(factory, org, receiver):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service, confidential=True, subject="Hemlig utredning")
    send_due(now=NOW)
    sent = receiver.json(0)["ticket"]
    assert sent["subject"] is None and sent["description"] is None
    assert b"Hemlig" not in receiver.received[0]["body"]


def test_an_answer_that_is_not_http_is_retried_and_holds_up_no_other_delivery(
        factory, org, receiver):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [b"hello there\r\n"]

    result = send_due(now=NOW)

    assert (result.delivered, result.retrying) == (1, 1)
    garbled, fine = deliveries()
    assert (garbled.attempts, garbled.last_status, garbled.next_attempt_at) == (
        1, None, NOW + timedelta(minutes=1))
    assert "BadStatusLine" in (garbled.last_error or "")
    assert fine.state == "delivered"
    assert send_due(now=NOW + timedelta(minutes=1)).delivered == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_post_that_says_where_it_points(factory, org, receiver, status):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [status]

    assert send_due(now=NOW).retrying == 1

    [delivery] = deliveries()
    assert receiver.gets == []  # the body was not dropped for a GET to the new place
    assert (delivery.state, delivery.last_status) == ("retrying", status)
    assert delivery.last_error is not None and delivery.last_error.endswith("-> /landing")


def test_a_stopped_subscription_holds_what_was_queued_until_it_is_started_again(
        factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    set_active(subscription, False)
    factory.ticket(org.requester, org.service)  # while stopped: nothing is queued for it

    assert send_due(now=NOW + timedelta(hours=5)).delivered == 0
    [held] = deliveries()
    assert (receiver.received, held.attempts, held.state) == ([], 0, "queued")

    set_active(subscription, True)
    assert send_due(now=NOW + timedelta(hours=5)).delivered == 1
    assert held.state == "delivered"


def test_sla_events_show_the_ticket_at_risk_and_breached_not_as_it_was_before(
        sla_org, factory, now, settings, receiver):
    # Under the sla_org policy a P3 ticket made at 10:00 is warned at 13:00, due at 14:00.
    add_subscription(name="x", url=receiver.url,
                     events=["ticket.sla_warning", "ticket.sla_breach"], now=now)
    factory.ticket(sla_org.org.requester, sla_org.org.service, now)
    for at in (sthlm(10, 13), sthlm(10, 14)):
        sweep_all(now=at, settings=settings, worker="sweep-test")
    db.session.flush()

    send_due(now=sthlm(10, 14))

    assert [(receiver.json(n)["event"], receiver.json(n)["ticket"]["sla_state"])
            for n in range(2)] == [("ticket.sla_warning", "at_risk"),
                                   ("ticket.sla_breach", "breached")]


def test_two_senders_at_once_post_each_delivery_exactly_once(database, receiver):
    database.app()
    queued = queue_committed(database, receiver.url, 6)
    together = threading.Barrier(2, timeout=5)

    def slowly() -> None:
        # The first two posts wait for each other: both senders are mid-post at once (and
        # neither holds up the other while its receiver answers).
        if len(receiver.received) <= 2:
            together.wait()
        else:
            time.sleep(0.05)

    receiver.while_posting = slowly
    results: list[SendResult] = []
    senders = [threading.Thread(target=lambda app=app: results.append(send_from(app)))
               for app in (database.app(), database.app())]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)

    posted = sorted(int(sent["headers"]["X-Helpdesk-Delivery"]) for sent in receiver.received)
    assert posted == queued
    assert sum(result.delivered for result in results) == 6
    with database.session():
        assert {(d.state, d.attempts) for d in deliveries()} == {("delivered", 1)}


def test_a_post_after_a_slow_one_is_signed_when_it_is_sent(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    factory.ticket(org.requester, org.service)
    clock = SteppingClock(NOW)
    receiver.clock = clock
    receiver.while_posting = lambda: clock.advance(timedelta(minutes=10))  # each answer: 10 min

    assert send_due(clock=clock).delivered == 2

    later = receiver.received[1]
    assert later["at"] == NOW + timedelta(minutes=10)
    for sent in receiver.received:
        header = sent["headers"]["X-Helpdesk-Signature"]
        assert abs(signed_at(header) - sent["at"].timestamp()) <= 1
        assert verify(subscription.secret, header, sent["headers"]["X-Helpdesk-Delivery"],
                      sent["body"], now=sent["at"])
    assert [d.delivered_at for d in deliveries()] == [NOW + timedelta(minutes=10),
                                                      NOW + timedelta(minutes=20)]


def test_a_failed_post_is_retried_counting_from_when_it_ended(factory, org, receiver):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    clock = SteppingClock(NOW)
    receiver.statuses = [503]
    receiver.while_posting = lambda: clock.advance(timedelta(seconds=50))

    assert send_due(clock=clock).retrying == 1

    [delivery] = deliveries()
    assert delivery.next_attempt_at == NOW + timedelta(seconds=50) + timedelta(minutes=1)


class SenderDied(BaseException):
    """The sender's process ended (killed, say): not even ``except Exception`` runs."""


def test_a_delivery_whose_sender_died_mid_post_is_posted_again_when_the_claim_runs_out(
        factory, org, receiver):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)

    def dying_clock() -> datetime:
        if receiver.received:  # posted: the sender dies before it writes down the answer
            raise SenderDied
        return NOW

    with pytest.raises(SenderDied):
        send_due(clock=dying_clock)

    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts) == ("queued", 0)
    assert send_due(now=NOW + CLAIM - timedelta(seconds=1)).delivered == 0  # still claimed
    assert send_due(now=NOW + CLAIM).delivered == 1
    assert (delivery.state, delivery.attempts) == ("delivered", 1)
    assert [sent["headers"]["X-Helpdesk-Delivery"] for sent in receiver.received] == [
        str(delivery.id)] * 2  # the same id: the receiver can tell it is a repeat


def test_a_post_that_outlasts_its_claim_leaves_the_outcome_to_the_sender_that_took_it_over(
        database, receiver):
    database.app()
    [queued] = queue_committed(database, receiver.url, 1)
    first_clock = SteppingClock(utcnow() + timedelta(seconds=1))
    first, second = database.app(), database.app()

    def taken_over_meanwhile() -> None:
        if len(receiver.received) == 1:  # the first sender's post: it outlasts its claim
            first_clock.advance(CLAIM + timedelta(minutes=1))
            with second.app_context():
                try:
                    assert send_due(clock=lambda: first_clock.now).delivered == 1
                finally:
                    db.session.remove()

    receiver.while_posting = taken_over_meanwhile
    receiver.statuses = [204, 500]  # the second sender's post is answered first
    with first.app_context():
        try:
            late = send_due(clock=first_clock)
        finally:
            db.session.remove()

    assert (late.delivered, late.retrying, late.failed) == (0, 0, 0)  # not its outcome to write
    with database.session() as session:
        delivery = session.get(WebhookDelivery, queued)
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 204)
        assert delivery.next_attempt_at is None


# A 200 whose status line comes at once and whose header then trickles in over about 4 s:
# cut off, its headers would look ended, and the post delivered.
TRICKLED_200 = Trickle(b"HTTP/1.1 200 OK\r\n", b"X-Slowly: " + b"x" * 60 + b"\r\n\r\n",
                       every=0.05)


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
        factory, org, receiver, monkeypatch):
    monkeypatch.setattr(http_post, "POST_DEADLINE_SECONDS", 0.5)
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [TRICKLED_200]

    began = time.monotonic()
    result = send_due(now=NOW)
    took = time.monotonic() - began

    assert took < 2  # well before the trickle's end: the deadline, not each read's timeout
    assert (result.delivered, result.retrying) == (0, 1)
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "retrying", 1, None, "No answer within 0.5 s.")
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)


def test_a_run_takes_no_new_delivery_once_its_time_is_spent(factory, org, receiver,
                                                             monkeypatch):
    monkeypatch.setattr(http_post, "POST_DEADLINE_SECONDS", 0.5)
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    for _ in range(5):
        factory.ticket(org.requester, org.service)
    receiver.statuses = [TRICKLED_200] * 5

    began = time.monotonic()
    result = send_due(now=NOW, seconds=0.75)
    took = time.monotonic() - began

    # The first post ends at 0.5 s, within the run's time; the second, begun then, at 1 s.
    assert result.retrying == 2 and took < 2
    assert [(d.state, d.attempts) for d in deliveries()] == [("retrying", 1)] * 2 + [
        ("queued", 0)] * 3  # not even claimed: due at the next run, no attempt used
    receiver.statuses = []
    assert send_due(now=NOW).delivered == 3


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 503 " + b"Busy " * 4000 + b"\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nLocation: /" + b"x" * 20000 + b"\r\nContent-Length: 0\r\n\r\n",
])
def test_what_a_receiver_says_is_kept_short(factory, org, receiver, answer):
    add_subscription(name="x", url=receiver.url, events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [answer]

    assert send_due(now=NOW).retrying == 1

    [delivery] = deliveries()
    assert delivery.last_error is not None and len(delivery.last_error) <= ERROR_LENGTH
    assert delivery.last_error.startswith(("HTTP 503 Busy Busy", "HTTP 302 Found -> /xxx"))
    assert delivery.last_error.endswith("…")


def test_an_address_typed_with_other_characters_than_ascii_is_posted_as_typed(
        factory, org, receiver):
    # Fullwidth letters, as an input method may type them, are the same host name.
    port = receiver.server.server_port
    subscription = add_subscription(name="x", url=f"http://ＬＯＣＡＬＨＯＳＴ:{port}/hök?q=ä",
                                    events=["ticket.created"], now=NOW)
    assert subscription.url == f"http://localhost:{port}/h%C3%B6k?q=%C3%A4"
    factory.ticket(org.requester, org.service)

    assert send_due(now=NOW).delivered == 1

    [sent] = receiver.received
    assert sent["path"] == "/h%C3%B6k?q=%C3%A4"
    assert sent["headers"]["Host"] == f"localhost:{port}"


def test_a_receiver_that_never_ends_the_tls_handshake_is_cut_off_at_the_deadline(
        factory, org, monkeypatch):
    # TLS takes the connection over from the socket the deadline watches: it is still shut.
    monkeypatch.setattr(http_post, "POST_DEADLINE_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connected to, never answering
        add_subscription(name="x", url=f"https://127.0.0.1:{silent.getsockname()[1]}/hook",
                         events=["ticket.created"], now=NOW)
        factory.ticket(org.requester, org.service)
        began = time.monotonic()
        assert send_due(now=NOW).retrying == 1
        took = time.monotonic() - began

    assert took < TIMEOUT_SECONDS / 2
    [delivery] = deliveries()
    assert (delivery.attempts, delivery.last_error) == (1, "No answer within 0.5 s.")
