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
from tests.integration.webhooks.support import running_receiver
from tests.support import fast_password_hashing
from tests.web.helpers import Element, Page, get, person, post


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
    assert summary_links(page) == [("#url", "Address (URL)"), ("#event-1", "Events")]
    assert db.session.scalars(select(WebhookSubscription)).all() == []


def summary_links(page: Page) -> list[tuple[str, str]]:
    """The links of the error summary at the top of a refused form: (target, text)."""
    summary = page.doc.one("div", class_="error-summary")
    assert summary.attrs["role"] == "alert"
    return [(link.attrs["href"], link.text) for link in summary.find_all("a")]


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


# --- Changing, a new secret, deleting ------------------------------------------------------

def subscription_for(url: str = "https://example.org/hook") -> WebhookSubscription:
    return add_subscription(name="Övervakning", url=url, events=["ticket.created"], now=NOW)


def fieldset(page: Page, legend: str) -> Element:
    [found] = [f for f in page.doc.find_all("fieldset") if f.one("legend").text == legend]
    return found


def ticked(page: Page, name: str) -> list[str]:
    return [box.attrs["value"] for box in page.doc.find_all("input", name=name)
            if "checked" in box.attrs]


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_nobody_but_an_administrator_changes_or_deletes_a_subscription(app, org, who):
    subscription = subscription_for()
    secret = subscription.secret
    client = person(app, getattr(org, who))
    path = f"/admin/webhooks/{subscription.id}"
    assert client.get(path).status_code == 404
    assert client.post(path, data={"name": "x", "url": "http://x.example/",
                                   "events": "ticket.created"}).status_code == 404
    assert client.post(f"{path}/secret").status_code == 404
    assert client.post(f"{path}/delete", data={"confirm": "1"}).status_code == 404
    db.session.expire_all()
    assert (subscription.name, subscription.url, subscription.secret) == (
        "Övervakning", "https://example.org/hook", secret)


def test_someone_not_logged_in_is_sent_to_log_in(app, org):
    subscription = subscription_for()
    response = person(app).post(f"/admin/webhooks/{subscription.id}/delete",
                                data={"confirm": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(WebhookSubscription, subscription.id) is not None


@pytest.mark.parametrize(("method", "path"), [
    ("get", ""), ("post", ""), ("post", "/secret"), ("post", "/delete"), ("post", "/active")])
def test_a_subscription_that_does_not_exist_is_not_found(app, org, method, path):
    admin = person(app, org.admin)
    response = getattr(admin, method)(f"/admin/webhooks/999{path}", data={
        "name": "x", "url": "http://x.example/", "events": "ticket.created", "confirm": "1"})
    assert response.status_code == 404


def test_an_administrator_corrects_the_name_address_and_events(app, org):
    subscription = subscription_for("https://exmaple.org/hook")
    admin = person(app, org.admin)
    index = get(admin, "/admin/webhooks")
    [edit] = [a for a in index.doc.one("section", aria_labelledby="subs-heading").find_all("a")
              if a.text == "Edit"]
    assert edit.attrs["aria-label"] == "Edit Övervakning"

    form = get(admin, edit.attrs["href"])
    assert form.field_value("name") == "Övervakning"
    assert form.field_value("url") == "https://exmaple.org/hook"
    assert "checked" in form.doc.one("input", value="ticket.created").attrs
    response = admin.post(edit.attrs["href"], data={
        "name": "Regionens servicedesk", "url": "https://Växel.example/hook",
        "events": ["ticket.escalated", "ticket.sla_breach"]})

    assert response.status_code == 302
    assert (subscription.name, subscription.url, subscription.events) == (
        "Regionens servicedesk", "https://xn--vxel-loa.example/hook",
        ["ticket.escalated", "ticket.sla_breach"])
    assert "Subscription Regionens servicedesk saved." in get(admin, "/admin/webhooks").flashes


def test_a_change_that_is_refused_names_each_error_keeps_what_was_typed_and_changes_nothing(
        app, org):
    subscription = subscription_for()
    page = post(person(app, org.admin), f"/admin/webhooks/{subscription.id}",
                {"name": "  ", "url": "http://user:pw@example.org/hook", "events": []})

    assert page.status == 422
    for field in ("name", "url"):
        element = page.doc.one("input", id=field)
        assert element.attrs.get("aria-invalid") == "true"
        assert element.attrs["aria-describedby"] == f"{field}-error"
    assert fieldset(page, "Events").attrs["aria-describedby"] == "events-error"
    assert "This field is required." in page.doc.one(id="name-error").text
    assert "may not contain a user name or password" in page.doc.one(id="url-error").text
    assert "Choose at least one event." in page.doc.one(id="events-error").text
    assert summary_links(page) == [("#name", "Name"), ("#url", "Address (URL)"),
                                   ("#event-1", "Events")]
    assert page.field_value("url") == "http://user:pw@example.org/hook"  # as typed
    assert "checked" not in page.doc.one("input", value="ticket.created").attrs
    db.session.expire_all()
    assert (subscription.name, subscription.url, subscription.events) == (
        "Övervakning", "https://example.org/hook", ["ticket.created"])


def test_a_user_name_and_password_kept_from_before_are_not_put_in_the_form(app, org):
    db.session.add(old := WebhookSubscription(
        name="Gammal", url="https://user:hemligt@example.org/hook", secret="s",
        events=["ticket.created"], active=True, created_at=NOW))
    db.session.flush()
    page = get(person(app, org.admin), f"/admin/webhooks/{old.id}")
    assert "hemligt" not in page.html
    assert page.field_value("url") == "https://…@example.org/hook"


def test_a_new_secret_is_shown_once_in_the_answer_and_the_old_one_is_gone(app, org):
    subscription = subscription_for()
    old = subscription.secret
    admin = person(app, org.admin)

    response = admin.post(f"/admin/webhooks/{subscription.id}/secret")

    page = Page(response)
    assert page.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = page.doc.one("input", id="new-secret").attrs["value"]
    assert shown == subscription.secret != old
    assert "retries of deliveries queued before too" in page.text
    with admin.session_transaction() as session:
        assert shown not in repr(dict(session))
    assert shown not in get(admin, f"/admin/webhooks/{subscription.id}").html


def test_deleting_asks_to_confirm_that_the_delivery_log_goes_too(app, factory, org):
    subscription = subscription_for()
    factory.ticket(org.requester, org.service)
    admin = person(app, org.admin)
    form = get(admin, f"/admin/webhooks/{subscription.id}")
    assert "required" in form.doc.one("input", id="confirm").attrs
    assert form.doc.one("label", for_="confirm").text == (
        "I understand that the delivery log of this subscription is removed too")

    page = post(admin, f"/admin/webhooks/{subscription.id}/delete", {})

    assert page.status == 422
    checkbox = page.doc.one("input", id="confirm")
    assert checkbox.attrs.get("aria-invalid") == "true"
    assert checkbox.attrs["aria-describedby"] == "confirm-error"
    assert "Tick the box" in page.doc.one(id="confirm-error").text
    # Named at the top too: the checkbox is at the foot of a long page.
    assert summary_links(page) == [("#confirm", "Delete the subscription")]
    assert db.session.scalars(select(WebhookDelivery)).all() != []


def test_a_deleted_subscription_takes_its_delivery_log_with_it(app, factory, org):
    subscription = subscription_for("http://127.0.0.1:9/hook")
    kept = add_subscription(name="Kvar", url="http://127.0.0.1:9/kvar",
                            events=["ticket.created"], now=NOW)
    factory.ticket(org.requester, org.service)
    factory.ticket(org.requester, org.service)
    send_due(now=NOW)  # in the log: tried once (nothing listens on port 9), to be retried
    admin = person(app, org.admin)

    response = admin.post(f"/admin/webhooks/{subscription.id}/delete", data={"confirm": "1"})

    assert response.status_code == 302
    assert db.session.scalars(select(WebhookSubscription)).all() == [kept]
    assert {d.subscription_id for d in db.session.scalars(select(WebhookDelivery))} == {kept.id}
    page = get(admin, "/admin/webhooks")
    assert "Subscription Övervakning deleted, with its delivery log." in page.flashes
    assert "Övervakning" not in page.doc.one("section", aria_labelledby="log-heading").text
    assert get(admin, f"/admin/webhooks/{subscription.id}").status == 404


def test_a_receiver_that_answered_410_gone_is_shown_stopped_until_started_again(
        app, factory, org):
    admin = person(app, org.admin)
    with running_receiver() as receiver:
        subscription = subscription_for(receiver.url)
        factory.ticket(org.requester, org.service)
        factory.ticket(org.requester, org.service)
        receiver.statuses = [410]
        send_due(now=NOW)

        page = get(admin, "/admin/webhooks")
        [row] = page.doc.one("section", aria_labelledby="subs-heading").find("tbody").find_all("tr")
        assert "stopped" in row.text
        assert "Stopped on 2026-03-10 10:00: the receiver answered 410 Gone." in row.text
        assert "Start Övervakning" in [b.attrs.get("aria-label") for b in row.find_all("button")]
        log = [r.text for r in page.doc.one("section", aria_labelledby="log-heading")
               .find("tbody").find_all("tr")]
        assert any("given up" in r and "HTTP 410 Gone" in r for r in log)
        assert any("held until the subscription is started again" in r for r in log)
        assert "the receiver answered 410 Gone" in get(
            admin, f"/admin/webhooks/{subscription.id}").text

        admin.post(f"/admin/webhooks/{subscription.id}/active", data={"active": "1"})

        assert "410" not in get(admin, "/admin/webhooks").doc.one(
            "section", aria_labelledby="subs-heading").text
        assert send_due(now=NOW).delivered == 1
        assert len(receiver.received) == 2


def test_the_page_says_what_a_410_does(app, org):
    page = get(person(app, org.admin), "/admin/webhooks")
    assert "410 Gone" in page.text and "a 404 too, is retried" in page.text


def test_a_subscription_limited_to_groups_shows_them_and_they_can_be_changed(app, org):
    admin = person(app, org.admin)
    form = get(admin, "/admin/webhooks")
    groups = fieldset(form, "Groups")
    assert "None chosen: every ticket." in groups.one("p", id="groups-hint").text
    assert groups.attrs["aria-describedby"] == "groups-hint"
    assert f"{org.level3.name_en} (level3)" in [label.text for label in groups.find_all("label")]
    response = admin.post("/admin/webhooks", data={
        "name": "Partnerns servicedesk", "url": "https://partner.example/hook",
        "events": ["ticket.escalated"], "groups": ["level3", "other3"]})
    assert response.status_code == 201
    add_subscription(name="Övervakning", url="https://example.org/hook",
                     events=["ticket.created"], now=NOW)

    rows = {row.one("th").text: row.find_all("td")[2].text for row in get(
        admin, "/admin/webhooks").doc.one("section", aria_labelledby="subs-heading")
        .one("tbody").find_all("tr")}
    assert rows == {"Partnerns servicedesk": f"{org.level3.name_en}, {org.other3.name_en}",
                    "Övervakning": "every ticket"}

    partner = db.session.scalars(select(WebhookSubscription).filter_by(
        name="Partnerns servicedesk")).one()
    assert partner.group_codes == ["level3", "other3"]
    page = get(admin, f"/admin/webhooks/{partner.id}")
    assert ticked(page, "groups") == ["level3", "other3"]
    response = admin.post(f"/admin/webhooks/{partner.id}", data={
        "name": partner.name, "url": partner.url, "events": partner.events,
        "groups": ["level3"]})
    assert response.status_code == 302
    assert partner.group_codes == ["level3"]
    assert ticked(get(admin, f"/admin/webhooks/{partner.id}"), "groups") == ["level3"]

    admin.post(f"/admin/webhooks/{partner.id}", data={
        "name": partner.name, "url": partner.url, "events": partner.events})  # none ticked
    assert partner.group_codes == []


@pytest.mark.parametrize("path", ["/admin/webhooks", "edit"])
def test_a_group_not_in_the_list_is_refused_naming_the_field(app, session, org, path):
    subscription = subscription_for()
    session.commit()  # the refusal rolls back: keep the arranged rows out of its reach
    url = f"/admin/webhooks/{subscription.id}" if path == "edit" else path
    page = post(person(app, org.admin), url, {
        "name": "Partnerns servicedesk", "url": "https://partner.example/hook",
        "events": ["ticket.escalated"], "groups": ["level3", "nobody"]})

    assert page.status == 422
    assert "Choose groups from the list." in page.doc.one(id="groups-error").text
    assert fieldset(page, "Groups").attrs["aria-describedby"] == "groups-hint groups-error"
    assert ticked(page, "groups") == ["level3"]  # what was ticked, kept
    db.session.expire_all()
    assert [s.group_codes for s in db.session.scalars(select(WebhookSubscription))] == [[]]


def test_a_subscription_added_again_after_a_delete_gets_ids_never_handed_out_before(
        app, factory, org):
    """The receiver drops an X-Helpdesk-Delivery it has had; SQLite reused a deleted
    subscription's highest ids, and a stale page of it edited the new one."""
    admin = person(app, org.admin)
    form = {"name": "Partner", "events": ["ticket.created"]}
    with running_receiver() as receiver:
        assert admin.post("/admin/webhooks", data={**form, "url": receiver.url}
                          ).status_code == 201
        [first] = db.session.scalars(select(WebhookSubscription)).all()
        factory.ticket(org.requester, org.service)
        factory.ticket(org.requester, org.service)
        assert send_due(now=NOW).delivered == 2
        stale = f"/admin/webhooks/{first.id}"
        assert admin.post(f"{stale}/delete", data={"confirm": "1"}).status_code == 302

        assert admin.post("/admin/webhooks", data={**form, "url": receiver.url}
                          ).status_code == 201
        factory.ticket(org.requester, org.service)
        assert send_due(now=NOW).delivered == 1

        earlier, again = ({int(post["headers"]["X-Helpdesk-Delivery"]) for post in posts}
                          for posts in (receiver.received[:2], receiver.received[2:]))
        assert min(again) > max(earlier)
        assert get(admin, stale).status == 404
        assert admin.post(stale, data={**form, "url": "https://elsewhere.example/"}
                          ).status_code == 404
        [second] = db.session.scalars(select(WebhookSubscription)).all()
        assert second.id > first.id and second.url == receiver.url
