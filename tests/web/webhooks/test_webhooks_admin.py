"""The administrators' webhook page: subscriptions, the form, and the delivery log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.webhooks.http_post import no_answer
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.sender import ERROR_LENGTH, send_due
from helpdesk.webhooks.subscriptions import add_subscription
from tests.conftest import NOW
from tests.support import fast_password_hashing
from tests.web.helpers import Page, get, person, post


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_nobody_but_an_administrator_finds_the_page(app, org, who):
    client = person(app, getattr(org, who))
    assert client.get("/admin/webhooks").status_code == 404
    assert client.post("/admin/webhooks", data={"name": "x", "url": "http://x.example/",
                                                "events": "ticket.created"}).status_code == 404


def test_an_administrator_subscribes_and_reads_the_delivery_log(app, factory, org):
    admin = person(app, org.admin)
    response = admin.post("/admin/webhooks", data={
        "name": "Regionens servicedesk", "url": "http://127.0.0.1:9/hook",
        "events": ["ticket.created", "ticket.escalated"]})
    assert response.status_code == 201
    subscription = db.session.scalars(select(WebhookSubscription)).one()
    assert subscription.events == ["ticket.created", "ticket.escalated"]
    factory.ticket(org.requester, org.service)
    send_due(now=NOW)  # nothing listens on port 9: the post fails and waits for its retry

    page = get(admin, "/admin/webhooks")
    assert "Regionens servicedesk" in page.text
    log = page.doc.one("section", aria_labelledby="log-heading")
    [row] = [r for r in log.find_all("tr") if "Ticket created" in r.text]
    assert "will be retried" in row.text and "next try" in row.text
    assert db.session.scalars(select(WebhookDelivery)).one().attempts == 1

    stop = admin.post(f"/admin/webhooks/{subscription.id}/active", data={"active": "0"})
    assert stop.status_code == 302
    assert subscription.active is False
    stopped = get(admin, "/admin/webhooks")
    assert "stopped" in stopped.text
    [row] = [r for r in stopped.doc.one("section", aria_labelledby="log-heading").find_all("tr")
             if "Ticket created" in r.text]
    assert "held until the subscription is started again" in row.text
    assert "next try" not in row.text


def test_the_form_names_what_is_wrong_and_keeps_what_was_typed(app, org):
    page = post(person(app, org.admin), "/admin/webhooks",
                {"name": "Övervakning", "url": "ftp://example.org", "events": []})
    assert page.status == 422
    assert page.doc.one("input", id="url").attrs.get("aria-invalid") == "true"
    assert page.doc.one("input", id="name").attrs["value"] == "Övervakning"
    assert "Choose at least one event." in page.text
    assert db.session.scalars(select(WebhookSubscription)).all() == []


@pytest.mark.parametrize("url", [
    "http://[::1/hook",  # an IPv6 address not closed, which urlsplit cannot read
    "http://[zz]/x",
    "http://example.org:99999/hook",
    "http://exa mple.org/hook",
    "http://example.org/\nhook",
    "http://:80/hook",
    "https://example.org/" + "x" * 500,  # longer than the column: not cut to another address
])
def test_an_address_deliveries_could_never_reach_is_refused_at_once(app, org, url):
    page = post(person(app, org.admin), "/admin/webhooks",
                {"name": "Övervakning", "url": url, "events": ["ticket.created"]})
    assert page.status == 422
    assert page.doc.one("input", id="url").attrs.get("aria-invalid") == "true"
    assert db.session.scalars(select(WebhookSubscription)).all() == []


def test_a_name_no_database_could_keep_is_refused(app, org):
    page = post(person(app, org.admin), "/admin/webhooks",
                {"name": "Över\x00vakning", "url": "https://example.org/hook",
                 "events": ["ticket.created"]})
    assert page.status == 422
    assert "The text may not contain NUL characters." in page.text


def test_the_new_signing_secret_is_shown_in_the_answer_and_never_kept_in_the_session(app, org):
    admin = person(app, org.admin)
    response = admin.post("/admin/webhooks", data={
        "name": "Övervakning", "url": "https://example.org/hook", "events": ["ticket.created"]})
    subscription = db.session.scalars(select(WebhookSubscription)).one()

    page = Page(response)
    assert page.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert page.doc.one("input", id="new-secret").attrs["value"] == subscription.secret
    assert page.doc.one("input", id="url").attrs["value"] == ""  # the form is for the next one
    # The session cookie is signed, not encrypted: whatever is in it, anyone can read.
    with admin.session_transaction() as session:
        assert subscription.secret not in repr(dict(session))
    assert subscription.secret not in get(admin, "/admin/webhooks").html


def test_the_page_counts_the_attempts_and_says_deliveries_may_come_out_of_order(app, org):
    page = get(person(app, org.admin), "/admin/webhooks")
    assert "ten attempts in all" in page.text and "ten times" not in page.text
    assert "out of order" in page.text and "occurred_at" in page.text


def test_a_long_error_in_the_log_is_shown_short(app, factory, org):
    subscription = add_subscription(name="x", url="http://127.0.0.1:9/hook",
                                    events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    # As a receiver's reason phrase was stored before errors were cut short.
    delivery.attempts, delivery.last_error = 1, "HTTP 503 " + "x" * 120_000
    db.session.flush()

    page = get(person(app, org.admin), "/admin/webhooks")

    assert len(page.html) < 20_000
    [row] = [r for r in page.doc.one("section", aria_labelledby="log-heading").find_all("tr")
             if "HTTP 503" in r.text]
    assert len(row.text) < ERROR_LENGTH + 200
    assert subscription.name in row.text


def test_a_post_with_no_answer_in_time_says_so_in_the_log(app, factory, org):
    add_subscription(name="x", url="http://127.0.0.1:9/hook", events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    delivery.attempts, delivery.last_error = 1, no_answer(30)
    db.session.flush()

    page = get(person(app, org.admin), "/admin/webhooks")

    assert "No answer within 30 s." in page.doc.one("section", aria_labelledby="log-heading").text


@pytest.mark.parametrize(("url", "message"), [
    ("http://user:secret@example.org/hook", "may not contain a user name or password"),
    ("http://@example.org/hook", "may not contain a user name or password"),
    ("http://127.0.0.1:8000\\@evil.example/", "may not contain a backslash"),
    ("http://example.org\\hook", "may not contain a backslash"),
    ("http://a..b/hook", "not a valid domain name"),
    ("http://" + "a" * 64 + ".example/hook", "not a valid domain name"),
    ("http://.example/hook", "not a valid domain name"),
    ("http://ex!ample.org/hook", "not a valid domain name"),
    # Read as NFKC, a fullwidth "＠" would make a user name of what is before it.
    ("http://user＠evil.example/hook", "Give an http:// or https:// address."),
])
def test_an_address_no_post_could_use_is_refused_and_says_why(app, org, url, message):
    page = post(person(app, org.admin), "/admin/webhooks",
                {"name": "Övervakning", "url": url, "events": ["ticket.created"]})
    assert page.status == 422
    assert page.doc.one("input", id="url").attrs.get("aria-invalid") == "true"
    assert message in page.doc.one(id="url-error").text
    assert page.doc.one("input", id="url").attrs["value"] == url  # kept as typed
    assert db.session.scalars(select(WebhookSubscription)).all() == []


@pytest.mark.parametrize(("url", "stored"), [
    ("http://example.org/hök?q=ä", "http://example.org/h%C3%B6k?q=%C3%A4"),
    ("http://example.org/h%C3%B6k?q=a%20b&r=[1]", "http://example.org/h%C3%B6k?q=a%20b&r=[1]"),
    ("https://växel.example/hook", "https://xn--vxel-loa.example/hook"),
    ("https://Växel.Example:8443/", "https://xn--vxel-loa.example:8443/"),
    ("https://пример.example/hook", "https://xn--e1afmkfd.example/hook"),
    ("http://ＬＯＣＡＬＨＯＳＴ:8000/hook", "http://localhost:8000/hook"),
    ("http://[::1]:8000/hook", "http://[::1]:8000/hook"),
    ("http://receiver_1.internal/hook", "http://receiver_1.internal/hook"),
    ("http://" + "a" * 63 + ".example/hook", "http://" + "a" * 63 + ".example/hook"),
])
def test_an_address_is_kept_as_it_is_posted_to(app, org, url, stored):
    response = person(app, org.admin).post("/admin/webhooks", data={
        "name": "Övervakning", "url": url, "events": ["ticket.created"]})
    assert response.status_code == 201
    assert db.session.scalars(select(WebhookSubscription)).one().url == stored


def test_a_user_name_and_password_kept_from_before_are_not_shown(app, org):
    db.session.add(WebhookSubscription(name="Gammal", url="https://user:hemligt@example.org/hook",
                                       secret="s", events=["ticket.created"], active=True,
                                       created_at=NOW))
    db.session.flush()
    page = get(person(app, org.admin), "/admin/webhooks")
    table = page.doc.one("section", aria_labelledby="subs-heading").text
    assert "hemligt" not in page.html and "https://…@example.org/hook" in table
