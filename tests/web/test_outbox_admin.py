"""The administrator's outbox (/admin/outbox): who may look, what the list and a mail show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.core.outbox import OutboxMessage, queue_message
from helpdesk.extensions import db
from helpdesk.tickets.models import Channel
from helpdesk.tickets.operations import add_reply, take_ticket
from tests.conftest import NOW
from tests.support import fast_password_hashing
from tests.web.helpers import get, person


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def mails(count: int, **states: object) -> list[OutboxMessage]:
    """``count`` mails written a minute apart, oldest first, with ``states`` set on each."""
    for n in range(count):
        queue_message(kind="test", recipient_email=f"r{n}@example.org", subject=f"Brev {n:02d}",
                      body=f"Text {n}", now=NOW + timedelta(minutes=n))
    db.session.flush()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for row in rows:
        for name, value in states.items():
            setattr(row, name, value)
    db.session.flush()
    return rows


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_nobody_but_an_administrator_finds_the_outbox(app, org, who):
    [mail] = mails(1)
    client = person(app, getattr(org, who))
    assert get(client, "/admin/outbox").status == 404
    assert get(client, f"/admin/outbox/{mail.id}").status == 404
    assert not get(client, "/portal/tickets").doc.find("a", href="/admin/outbox")


def test_someone_not_logged_in_is_sent_to_the_login(app, org):
    response = person(app).get("/admin/outbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_administrator_reads_the_outbox_newest_first_a_page_at_a_time(app, org):
    rows = mails(55)
    admin = person(app, org.admin)
    home = get(admin, "/portal/tickets")
    assert home.doc.find("a", href="/admin/outbox").text == "Outgoing mail"

    page = get(admin, "/admin/outbox")
    assert page.status == 200 and page.lang == "en"
    assert page.doc.one("h1").text == "Outgoing mail"
    assert "No mail server is configured" in page.text  # the embedded default
    headers = page.doc.one("thead").find_all("th")
    assert [h.text for h in headers] == ["Written", "To", "Subject", "Ticket", "State"]
    assert all(h.attrs.get("scope") == "col" for h in headers)
    subjects = [th.text for th in page.doc.one("tbody").find_all("th")]
    assert subjects == [f"Brev {n:02d}" for n in range(54, 4, -1)]  # 50 a page
    assert page.doc.one("label").attrs["for"] == page.doc.one("select").attrs["id"]
    pager = page.doc.one("nav", class_="pager")
    assert [a.text for a in pager.find_all("a")] == ["Next page"]

    second = get(admin, pager.one("a").attrs["href"])
    assert [th.text for th in second.doc.one("tbody").find_all("th")] == [
        f"Brev {n:02d}" for n in range(4, -1, -1)]
    assert [a.text for a in second.doc.one("nav", class_="pager").find_all("a")] == [
        "Previous page"]
    assert rows[0].subject in second.text


def test_the_filters_show_unsent_failed_and_sent_mail(app, org):
    _waiting, retrying, given_up, sent = mails(4)
    retrying.attempts, retrying.next_attempt_at = 1, NOW + timedelta(minutes=1)
    retrying.last_error = "127.0.0.1:25 could not be reached: ConnectionRefusedError"
    given_up.attempts, given_up.last_error = 3, "550 5.1.1 No such mailbox here"
    sent.sent_at = NOW
    db.session.flush()
    admin = person(app, org.admin)

    def shown(show: str) -> list[str]:
        return [th.text for th in get(admin, f"/admin/outbox?show={show}").doc.one(
            "tbody").find_all("th")]

    assert shown("all") == ["Brev 03", "Brev 02", "Brev 01", "Brev 00"]
    assert shown("unsent") == ["Brev 02", "Brev 01", "Brev 00"]
    assert shown("failed") == ["Brev 02", "Brev 01"]
    assert shown("sent") == ["Brev 03"]
    page = get(admin, "/admin/outbox?show=failed")
    assert "Failed; given up" in page.text and "550 5.1.1 No such mailbox here" in page.text
    assert "Failed; to be tried again" in page.text and "next try" in page.text
    options = [o.text for o in page.doc.find_all("option")]
    assert options == ["All (4)", "Not sent yet (3)", "Failed (to be tried again, or given up) (2)",
                       "Sent (1)"]


def test_one_mail_shows_its_headers_its_text_and_its_html_without_running_it(
        app, org, factory, settings):
    ticket = factory.ticket(org.requester, org.service, NOW, channel=Channel.EMAIL,
                            subject="<script>alert('x')</script> Skrivaren")
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    page = get(person(app, org.admin), f"/admin/outbox/{mail.id}")
    assert page.status == 200
    assert page.doc.one("h1").text == mail.subject
    headers = dict((tr.one("th").text, tr.one("td").text)
                   for tr in page.doc.find("section").one("tbody").find_all("tr"))
    assert headers["To"] == org.requester.email
    assert headers["Subject"] == mail.subject
    assert headers["Message-ID"] == f"<{mail.message_id}>"
    assert headers["In-Reply-To"] == f"<ticket.{ticket.reference}@{settings.mail.domain}>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    text, source = page.doc.find_all("pre")
    assert text.text == " ".join(mail.body.split())
    assert source.text.startswith("<!doctype html>")  # the source, as text
    frame = page.doc.one("iframe")
    assert frame.attrs["sandbox"] == "" and frame.attrs["title"]
    assert "<script" not in frame.attrs["srcdoc"].lower()
    assert "We have received your ticket" in frame.attrs["srcdoc"]
    assert "<script>" not in page.html  # the subject is shown as text everywhere
    assert page.doc.find("a", href=f"/agent/tickets/{ticket.reference}") is not None


def test_a_confidential_tickets_mail_is_hidden_from_an_administrator_outside_its_groups(
        app, org, factory, settings):
    secret = factory.ticket(org.requester, org.service, NOW, confidential=True,
                            subject="Hot mot personal")
    take_ticket(secret, actor=org.local_agent, now=NOW, settings=settings)
    add_reply(secret, actor=org.local_agent, body="Vi ringer dig.", internal=False, now=NOW,
              settings=settings)
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    admin = person(app, org.admin)
    listing = get(admin, "/admin/outbox")
    assert "Hot mot personal" not in listing.html
    assert "(hidden: the ticket is confidential)" in listing.text
    assert org.requester.email in listing.text  # that it went, and to whom, is not hidden
    page = get(admin, f"/admin/outbox/{mail.id}")
    assert page.status == 200
    assert "Hot mot personal" not in page.html and "Vi ringer dig." not in page.html
    assert page.doc.find("iframe") is None


def test_the_outbox_speaks_swedish_to_a_swedish_administrator(app, org):
    mails(1)
    org.admin.locale = "sv"
    db.session.flush()
    page = get(person(app, org.admin), "/admin/outbox")
    assert page.lang == "sv"
    assert page.doc.one("h1").text == "Utgående e-post"
    assert [h.text for h in page.doc.one("thead").find_all("th")] == [
        "Skrivet", "Till", "Rubrik", "Ärende", "Läge"]
