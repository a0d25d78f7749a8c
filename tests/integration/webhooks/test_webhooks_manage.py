"""Subscriptions changed, re-keyed, deleted and stopped by a 410, against real receivers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.webhooks.models import GONE, WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.sender import send_due, verify
from helpdesk.webhooks.subscriptions import (
    add_subscription,
    delete_subscription,
    edit_subscription,
    replace_secret,
    set_active,
)
from tests.conftest import NOW, Factory, TieredOrg
from tests.integration.conftest import Database
from tests.integration.webhooks.support import (
    Receiver,
    deliveries,
    queue_committed,
    running_receiver,
)

LATER = NOW + timedelta(minutes=1)  # when a first failed post is retried


def test_a_corrected_address_receives_the_waiting_retry_and_the_next_delivery(
        factory, org, receiver):
    with running_receiver() as mistyped:
        subscription = add_subscription(name="x", url=mistyped.url, events=["ticket.created"],
                                        now=NOW)
        factory.ticket(org.requester, org.service)
        mistyped.statuses = [503]
        assert send_due(now=NOW).retrying == 1

    edit_subscription(subscription, name="x", url=receiver.url, events=["ticket.created"],
                      groups=[])
    factory.ticket(org.requester, org.service, now=LATER)

    assert send_due(now=LATER).delivered == 2
    assert len(mistyped.received) == 1
    assert sorted(sent["headers"]["X-Helpdesk-Delivery"] for sent in receiver.received) == [
        str(d.id) for d in deliveries()]


def test_events_no_longer_chosen_are_queued_no_more(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    edit_subscription(subscription, name="x", url=receiver.url, events=["ticket.escalated"],
                      groups=[])
    factory.ticket(org.requester, org.service)
    assert deliveries() == []


def test_a_new_secret_signs_the_next_post_and_retries_of_earlier_ones(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [503]
    send_due(now=NOW)  # signed with the first secret, and refused
    old = subscription.secret

    new = replace_secret(subscription)
    factory.ticket(org.requester, org.service, now=LATER)
    assert send_due(now=LATER).delivered == 2

    first, *later = receiver.received
    assert verify(old, first["headers"]["X-Helpdesk-Signature"],
                  first["headers"]["X-Helpdesk-Delivery"], first["body"], now=NOW)
    assert {sent["headers"]["X-Helpdesk-Delivery"] for sent in later} == {
        str(d.id) for d in deliveries()}  # the retry of the first one among them
    for sent in later:
        signature, delivery = sent["headers"]["X-Helpdesk-Signature"], sent["headers"][
            "X-Helpdesk-Delivery"]
        assert verify(new, signature, delivery, sent["body"], now=LATER)
        assert not verify(old, signature, delivery, sent["body"], now=LATER)


def test_a_deleted_subscription_is_posted_nothing_more(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    delete_subscription(subscription)
    factory.ticket(org.requester, org.service)

    assert send_due(now=NOW).delivered == 0
    assert (receiver.received, deliveries()) == ([], [])


def test_a_410_gives_the_delivery_up_at_once_and_stops_the_subscription(factory, org, receiver):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [410]

    result = send_due(now=NOW)

    assert (result.delivered, result.retrying, result.failed) == (0, 0, 1)
    gone, waiting = deliveries()
    assert (gone.state, gone.attempts, gone.last_status, gone.last_error) == (
        "failed", 1, 410, "HTTP 410 Gone")
    assert (waiting.state, waiting.attempts) == ("queued", 0)  # held, no attempt used
    assert (subscription.active, subscription.stopped_reason, subscription.stopped_at) == (
        False, GONE, NOW)
    factory.ticket(org.requester, org.service)  # nothing is queued for a stopped one
    assert send_due(now=NOW + timedelta(days=1)).delivered == 0
    assert len(receiver.received) == 1

    set_active(subscription, True)  # by hand, once the receiver is back

    assert (subscription.stopped_reason, subscription.stopped_at) == (None, None)
    assert send_due(now=NOW + timedelta(days=1)).delivered == 1
    assert (gone.state, waiting.state) == ("failed", "delivered")


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_any_other_refusal_is_retried_and_the_subscription_kept(factory, org, receiver, status):
    subscription = add_subscription(name="x", url=receiver.url, events=["ticket.created"],
                                    now=NOW)
    factory.ticket(org.requester, org.service)
    receiver.statuses = [status]

    assert send_due(now=NOW).retrying == 1

    [delivery] = deliveries()
    assert (delivery.state, delivery.last_status) == ("retrying", status)
    assert (subscription.active, subscription.stopped_reason) == (True, None)
    assert send_due(now=LATER).delivered == 1


def change_while_posting(database: Database, receiver: Receiver, subscription_id: int,
                         change: Callable[[WebhookSubscription], object]) -> None:
    """``change`` done to the subscription, and committed, by an administrator (another
    app) while the sender waits for the receiver's answer."""
    other = database.app()

    def meanwhile() -> None:
        with other.app_context():
            try:
                change(db.session.get(WebhookSubscription, subscription_id))
                db.session.commit()
            finally:
                db.session.remove()

    receiver.while_posting = meanwhile


def sent_from(database: Database) -> tuple[int, int, int]:
    with database.apps[0].app_context():
        try:
            result = send_due()
        finally:
            db.session.remove()
    return result.delivered, result.retrying, result.failed


def subscription_of(database: Database, delivery_id: int) -> int:
    with database.session() as session:
        return session.get(WebhookDelivery, delivery_id).subscription_id


@pytest.mark.parametrize("status", [204, 410, 503])
def test_a_subscription_deleted_while_its_delivery_is_posted_is_gone_for_good(
        database, receiver, status):
    database.app()
    [queued] = queue_committed(database, receiver.url, 1)
    change_while_posting(database, receiver, subscription_of(database, queued),
                         delete_subscription)
    receiver.statuses = [status]

    assert sent_from(database) == (0, 0, 0)  # its outcome had no row left to go to

    assert len(receiver.received) == 1
    with database.session() as session:
        assert session.query(WebhookSubscription).count() == 0
        assert session.query(WebhookDelivery).count() == 0


def test_a_410_from_an_address_changed_meanwhile_does_not_stop_the_new_one(database, receiver):
    database.app()
    [queued] = queue_committed(database, receiver.url, 1)
    subscription_id = subscription_of(database, queued)
    with running_receiver() as corrected:
        change_while_posting(database, receiver, subscription_id, lambda s: edit_subscription(
            s, name=s.name, url=corrected.url, events=s.events, groups=s.group_codes))
        receiver.statuses = [410]

        assert sent_from(database) == (0, 1, 0)  # retried, at the new address

        with database.session() as session:
            subscription = session.get(WebhookSubscription, subscription_id)
            assert (subscription.active, subscription.stopped_reason) == (True, None)
            assert session.get(WebhookDelivery, queued).state == "retrying"


class TicketChange:
    """A ticket made in an app (a process) of its own, in a thread, on a subscribed
    helpdesk; committed when ``commit`` is set."""

    def __init__(self, database: Database, requester_id: int, service_id: int) -> None:
        self.app, self.commit = database.app(), threading.Event()
        self.errors: list[BaseException] = []
        self.queued = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(requester_id, service_id))

    def _run(self, requester_id: int, service_id: int) -> None:
        with self.app.app_context():
            try:
                Factory(self.app.config["HELPDESK"]).ticket(
                    db.session.get(User, requester_id), db.session.get(Service, service_id))
                db.session.flush()
                self.queued.set()
                self.commit.wait(10)
                db.session.commit()
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                self.queued.set()
                db.session.remove()


class Deletion:
    """An administrator deleting the subscription in an app of its own, in a thread;
    committed when ``commit`` is set."""

    def __init__(self, database: Database, subscription_id: int) -> None:
        self.app, self.commit = database.app(), threading.Event()
        self.errors: list[BaseException] = []
        self.deleted = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(subscription_id,))

    def _run(self, subscription_id: int) -> None:
        with self.app.app_context():
            try:
                delete_subscription(db.session.get(WebhookSubscription, subscription_id))
                self.deleted.set()
                self.commit.wait(10)
                db.session.commit()
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                self.deleted.set()
                db.session.remove()


def subscribed_helpdesk(database: Database) -> tuple[int, int, int]:
    """An organisation and a subscription to every ticket made, committed: the
    subscription's, the requester's and the service's ids."""
    app = database.app()
    with app.app_context():
        try:
            org = TieredOrg(Factory(app.config["HELPDESK"]))
            subscription = add_subscription(name="x", url="http://127.0.0.1:9/",
                                            events=["ticket.created"], now=NOW)
            db.session.commit()
            return subscription.id, org.requester.id, org.service.id
        finally:
            db.session.remove()


def wait_for_a_lock(database: Database) -> None:
    """Until some connection of the test's database waits for a row lock."""
    deadline = time.monotonic() + 10
    with database.session() as session:
        while session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'")) == 0:
            assert time.monotonic() < deadline, "nobody waited"
            session.rollback()
            time.sleep(0.02)


def after_both(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        return (len(session.scalars(select(WebhookSubscription)).all()),
                len(session.scalars(select(WebhookDelivery)).all()),
                len(session.scalars(select(Ticket)).all()))


@pytest.mark.postgres
def test_a_subscription_deleted_while_a_ticket_change_queues_a_delivery_for_it(
        postgres_database):
    subscription_id, requester_id, service_id = subscribed_helpdesk(postgres_database)
    change = TicketChange(postgres_database, requester_id, service_id)
    deletion = Deletion(postgres_database, subscription_id)
    change.thread.start()
    assert change.queued.wait(10) and not change.errors

    deletion.thread.start()  # waits for the change, which holds the subscription
    wait_for_a_lock(postgres_database)
    change.commit.set()
    deletion.commit.set()
    change.thread.join(10)
    deletion.thread.join(10)

    assert (change.errors, deletion.errors) == ([], [])
    assert after_both(postgres_database) == (0, 0, 1)  # the delivery went with it


@pytest.mark.postgres
def test_a_ticket_change_while_an_administrator_deletes_its_subscription(postgres_database):
    subscription_id, requester_id, service_id = subscribed_helpdesk(postgres_database)
    change = TicketChange(postgres_database, requester_id, service_id)
    deletion = Deletion(postgres_database, subscription_id)
    deletion.thread.start()
    assert deletion.deleted.wait(10) and not deletion.errors

    change.thread.start()  # waits for the deletion, then finds no subscription
    wait_for_a_lock(postgres_database)
    deletion.commit.set()
    change.commit.set()
    deletion.thread.join(10)
    change.thread.join(10)

    assert (change.errors, deletion.errors) == ([], [])
    assert after_both(postgres_database) == (0, 0, 1)
