"""The administrator's mail quarantine: who may look, downloading a mail as it arrived, and
releasing it into a ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.catalogue.models import Level1Choice, Lifecycle
from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import InboundMail, Outcome
from helpdesk.mail.quarantine import quarantine_failed
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


# --- why a mail is kept, in the reader's language ------------------------------------------
# Each way the code keeps a mail, with the reason the page shows in English and in Swedish
# ({service} is the name of the service the mail's mailbox files under).

def _not_a_mail(factory, org, now, settings, monkeypatch):
    receive(b"just some words, no headers at all", mailbox=factory.mailbox(org.service), now=now,
            settings=settings)


def _too_large(factory, org, now, settings, monkeypatch):
    monkeypatch.setattr(settings.mail, "max_message_bytes", 2000)
    receive(mail(sender=org.requester.email, body="x" * 5000), mailbox=factory.mailbox(org.service),
            now=now, settings=settings)


def _no_sender(factory, org, now, settings, monkeypatch):
    raw = b"Subject: Skrivaren\r\nMessage-ID: <nobody@sender.example>\r\n\r\nDen skriver inte.\r\n"
    receive(raw, mailbox=factory.mailbox(org.service), now=now, settings=settings)


def _mail_loop(factory, org, now, settings, monkeypatch):
    monkeypatch.setattr(settings.mail, "sender_limit_per_hour", 3)
    mailbox = factory.mailbox(org.service)
    for n in range(4):  # the first three become tickets
        receive(mail(sender="loop@elsewhere.example", body=f"loop {n}"), mailbox=mailbox,
                now=now + timedelta(minutes=n), settings=settings)


def _no_mailbox(factory, org, now, settings, monkeypatch):
    receive(mail(sender=org.requester.email), mailbox=None, now=now, settings=settings)


def _unknown_sender(factory, org, now, settings, monkeypatch):
    monkeypatch.setattr(settings.mail, "unknown_senders", "instruct")
    receive(mail(sender="okand@example.org"), mailbox=factory.mailbox(org.service), now=now,
            settings=settings)


def _retired_service(factory, org, now, settings, monkeypatch):
    service = factory.service(lifecycle=Lifecycle.RETIRED)
    receive(mail(sender=org.requester.email), mailbox=factory.mailbox(service), now=now,
            settings=settings)
    return service.name


def _service_without_a_group(factory, org, now, settings, monkeypatch):
    service = factory.service(Level1Choice.GROUP)
    receive(mail(sender=org.requester.email), mailbox=factory.mailbox(service), now=now,
            settings=settings)
    return service.name


def _failed(factory, org, now, settings, monkeypatch):
    quarantine_failed(mail(sender=org.requester.email), mailbox=factory.mailbox(org.service),
                      now=now, settings=settings, error=RuntimeError("database is locked"))


KEPT = {
    "not a mail": (_not_a_mail, "not a mail message: no header block",
                   "inte ett mejl: inget e-posthuvud"),
    "too large": (_too_large, "larger than the limit of 1 MB", "större än gränsen på 1 MB"),
    "no sender": (_no_sender, "no sender address to answer", "ingen avsändaradress att svara till"),
    "mail loop": (_mail_loop,
                  "more than 3 mails in an hour from loop@elsewhere.example: a mail loop?",
                  "mer än 3 mejl på en timme från loop@elsewhere.example: en mejlslinga?"),
    "no mailbox": (_no_mailbox,
                   "no mailbox is set up for this address, so no service to file it under",
                   "ingen brevlåda är inrättad för den här adressen, så det finns ingen tjänst "
                   "att föra det till"),
    "unknown sender": (_unknown_sender,
                       "unknown sender; instructions sent (HELPDESK_MAIL_UNKNOWN_SENDERS=instruct)",
                       "okänd avsändare; instruktioner skickade "
                       "(HELPDESK_MAIL_UNKNOWN_SENDERS=instruct)"),
    "retired service": (_retired_service,
                        "no ticket could be created: The service {service} cannot be ordered now "
                        "(Retired).",
                        "inget ärende kunde skapas: Det går inte att beställa tjänsten {service} "
                        "just nu (Avvecklad)."),
    "no group": (_service_without_a_group,
                 "no ticket could be created: The service {service} has no level-1 group; please "
                 "tell the helpdesk administrator.",
                 "inget ärende kunde skapas: Tjänsten {service} saknar grupp på nivå 1. Meddela "
                 "helpdeskens administratör."),
    # The program's own error is the program's words, in English.
    "failed": (_failed, "could not be handled: RuntimeError: database is locked",
               "kunde inte hanteras: RuntimeError: database is locked"),
}


def reasons_shown(app, admin) -> list[str]:
    page = get(person(app, admin), "/admin/mail/quarantine")
    assert page.lang == admin.locale
    # Received, From, Why it is here, Actions (the subject is the row's header).
    return [row.find_all("td")[2].text for row in page.doc.one("tbody").find_all("tr")]


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize("kind", KEPT)
def test_the_page_says_why_each_mail_is_kept_in_the_readers_language(
        app, factory, org, now, settings, monkeypatch, kind, language):
    keep, english, swedish = KEPT[kind]
    service = keep(factory, org, now, settings, monkeypatch) or ""
    org.admin.locale = language
    expected = (swedish if language == "sv" else english).format(service=service)
    assert reasons_shown(app, org.admin) == [expected]


def test_reasons_stored_before_are_translated_and_an_unknown_one_is_shown_as_stored(
        app, factory, org, now, settings):
    stored = ["not a mail message: no header block",
              "more than 3 mails in an hour from loop@elsewhere.example: a mail loop?",
              "unknown sender; instructions sent (HELPDESK_MAIL_UNKNOWN_SENDERS=instruct)",
              "held by a version that had a reason of its own"]
    mailbox = factory.mailbox(org.service)
    for n, reason in enumerate(stored):
        received = receive(mail(sender="okand@example.org", body=f"mail {n}"), mailbox=mailbox,
                           now=now - timedelta(minutes=n), settings=settings)
        inbound = db.session.get(InboundMail, received.inbound_id)
        inbound.outcome, inbound.reason = Outcome.QUARANTINED, reason  # as the old code wrote it
    org.admin.locale = "sv"
    assert reasons_shown(app, org.admin) == [
        "inte ett mejl: inget e-posthuvud",
        "mer än 3 mejl på en timme från loop@elsewhere.example: en mejlslinga?",
        "okänd avsändare; instruktioner skickade (HELPDESK_MAIL_UNKNOWN_SENDERS=instruct)",
        "held by a version that had a reason of its own"]


@pytest.mark.parametrize(("kind", "swedish"), [
    ("no mailbox", "Släppt, men det kan fortfarande inte hanteras: ingen brevlåda är inrättad "
                   "för den här adressen, så det finns ingen tjänst att föra det till"),
    ("not a mail", "Det här mejlet går inte att läsa som ett mejl (inget e-posthuvud); ladda ner "
                   "det i stället."),
])
def test_a_refused_release_quotes_the_reason_in_swedish(app, factory, org, now, settings,
                                                        monkeypatch, kind, swedish):
    KEPT[kind][0](factory, org, now, settings, monkeypatch)
    [kept] = db.session.scalars(select(InboundMail)).all()
    org.admin.locale = "sv"
    page = post(person(app, org.admin), f"/admin/mail/quarantine/{kept.id}/release", follow=True)
    assert page.flashes == [swedish]
