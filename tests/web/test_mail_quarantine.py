"""The administrator's mail quarantine: who may look, downloading a mail as it arrived, and
releasing it into a ticket."""

from __future__ import annotations

import pytest

from helpdesk.mail.ingest import receive
from tests.integration.mail.builders import mail
from tests.support import fast_password_hashing
from tests.web.helpers import get, person, post


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def kept(factory, org, now, settings):
    """A mail from an unknown sender, kept because the helpdesk answers such mail with
    instructions."""
    mailbox = factory.mailbox(org.service)
    settings.mail.unknown_senders = "instruct"
    try:
        raw = mail(sender="Okänd <okand@example.org>", subject="Hjälp med <skrivaren>")
        received = receive(raw, mailbox=mailbox, now=now, settings=settings)
    finally:
        settings.mail.unknown_senders = "allow"
    return received, raw


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_nobody_but_an_administrator_finds_the_quarantine(app, org, kept, who):
    received, _ = kept
    client = person(app, getattr(org, who))
    assert get(client, "/admin/mail/quarantine").status == 404
    assert get(client, f"/admin/mail/quarantine/{received.inbound_id}/raw").status == 404
    assert post(client, f"/admin/mail/quarantine/{received.inbound_id}/release").status == 404


def test_the_administrator_sees_why_downloads_and_releases(app, org, kept):
    received, raw = kept
    admin = person(app, org.admin)
    assert get(admin, "/portal/tickets").doc.find("a", href="/admin/mail/quarantine").text == (
        "Mail quarantine")
    page = get(admin, "/admin/mail/quarantine")
    assert page.status == 200 and page.doc.one("h1").text == "Mail quarantine"
    row = page.doc.one("tbody").find("tr")
    assert "okand@example.org" in row.text and "Hjälp med <skrivaren>" in row.text
    assert "unknown sender" in row.text

    download = admin.get(f"/admin/mail/quarantine/{received.inbound_id}/raw")
    assert download.status_code == 200 and download.data == raw
    assert download.mimetype == "application/octet-stream"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()

    released = post(admin, f"/admin/mail/quarantine/{received.inbound_id}/release", follow=True)
    assert any(f.startswith("Released: the mail is now on ticket HD-") for f in released.flashes)
    assert "The quarantine is empty." in released.text


def test_a_second_release_is_refused_with_a_reason(app, org, kept):
    received, _ = kept
    admin = person(app, org.admin)
    post(admin, f"/admin/mail/quarantine/{received.inbound_id}/release", follow=True)
    again = post(admin, f"/admin/mail/quarantine/{received.inbound_id}/release", follow=True)
    assert again.flashes == ["This mail is not in the quarantine."]


def test_the_quarantine_page_in_swedish(app, org, kept):
    org.admin.locale = "sv"
    page = get(person(app, org.admin), "/admin/mail/quarantine")
    assert page.lang == "sv" and page.doc.one("h1").text == "Karantän för e-post"
