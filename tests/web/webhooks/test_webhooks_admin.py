"""The administrators' webhook page: subscriptions, the form, and the delivery log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.sender import send_due
from tests.conftest import NOW
from tests.support import fast_password_hashing
from tests.web.helpers import get, person, post


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
    assert response.status_code == 302
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
