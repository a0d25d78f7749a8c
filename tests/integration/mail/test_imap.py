"""The IMAP poller against a real Dovecot: store, then mark; nothing lost, nothing twice."""

from __future__ import annotations

import imaplib

import pytest
from sqlalchemy import func, select

from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.mail import ingest
from helpdesk.mail.imap import STORED, MailboxUnavailable, poll
from helpdesk.mail.models import InboundMail, Outcome
from helpdesk.tickets.models import Ticket
from tests.integration.mail.builders import mail
from tests.services.imap import PASSWORD


@pytest.fixture
def imap_user(dovecot):
    return dovecot.new_user()


@pytest.fixture
def mailbox(factory, org, dovecot, imap_user, monkeypatch):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    box = factory.mailbox(org.service, imap_host="127.0.0.1", imap_port=dovecot.imap_port,
                          imap_user=imap_user, imap_password_env="TEST_IMAP_PASSWORD")
    # Committed, as a mailbox is before anyone polls it (a poll that rolls a group back
    # must not take the organisation with it).
    db.session.commit()
    return box


def ticket_count() -> int:
    return db.session.scalar(select(func.count(Ticket.id))) or 0


def test_new_mail_becomes_tickets_and_is_marked_only_once_stored(
        org, dovecot, imap_user, mailbox, settings):
    for n in range(3):
        dovecot.deliver(imap_user, mail(sender=org.requester.email, subject=f"Fel {n}"))
    result = poll(mailbox, settings=settings, now=utcnow)
    assert (result.fetched, result.duplicates) == (3, 0)
    assert ticket_count() == 3
    assert sorted(t.subject for t in db.session.scalars(select(Ticket))) == ["Fel 0", "Fel 1", "Fel 2"]
    assert dovecot.flagged(imap_user, STORED) == 3
    assert poll(mailbox, settings=settings, now=utcnow).fetched == 0


def test_a_crash_between_storing_and_marking_causes_no_duplicate(
        org, dovecot, imap_user, mailbox, settings, monkeypatch):
    for n in range(2):
        dovecot.deliver(imap_user, mail(sender=org.requester.email, subject=f"Fel {n}"))
    real_uid = imaplib.IMAP4.uid

    def dies_before_marking(self, command, *args):
        if command == "STORE":
            raise ConnectionResetError("the poller died here")
        return real_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", dies_before_marking)
    with pytest.raises(ConnectionResetError):
        poll(mailbox, settings=settings, now=utcnow)
    monkeypatch.setattr(imaplib.IMAP4, "uid", real_uid)
    assert ticket_count() == 2 and dovecot.flagged(imap_user, STORED) == 0
    again = poll(mailbox, settings=settings, now=utcnow)
    assert (again.fetched, again.duplicates) == (2, 2)
    assert ticket_count() == 2 and dovecot.flagged(imap_user, STORED) == 2


def test_a_mail_that_breaks_the_code_is_quarantined_and_the_rest_go_on(
        org, dovecot, imap_user, mailbox, settings, monkeypatch):
    dovecot.deliver(imap_user, mail(sender=org.requester.email, subject="vanligt"))
    dovecot.deliver(imap_user, mail(sender=org.requester.email, subject="giftigt"))
    real_decide = ingest.decide

    def breaks_on_poison(inbound, parsed, **kwargs):
        if parsed.subject == "giftigt":
            raise RuntimeError("a bug")
        return real_decide(inbound, parsed, **kwargs)

    monkeypatch.setattr(ingest, "decide", breaks_on_poison)
    result = poll(mailbox, settings=settings, now=utcnow)
    outcomes = sorted((r.outcome.value, r.reason.split(":")[0]) for r in result.received)
    assert outcomes == [("new_ticket", "a new request"), ("quarantined", "could not be handled")]
    kept = db.session.scalars(select(InboundMail).where(
        InboundMail.outcome == Outcome.QUARANTINED)).one()
    assert "RuntimeError: a bug" in kept.reason and kept.subject == "giftigt"
    assert dovecot.flagged(imap_user, STORED) == 2


def test_a_wrong_password_is_reported_and_nothing_is_marked(
        org, dovecot, imap_user, mailbox, settings, monkeypatch):
    dovecot.deliver(imap_user, mail(sender=org.requester.email))
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(MailboxUnavailable, match=mailbox.code):
        poll(mailbox, settings=settings, now=utcnow)
    assert ticket_count() == 0


def test_a_password_variable_that_is_not_set_is_named_and_nothing_is_marked(
        org, dovecot, imap_user, mailbox, settings, monkeypatch):
    dovecot.deliver(imap_user, mail(sender=org.requester.email))
    monkeypatch.delenv("TEST_IMAP_PASSWORD")
    with pytest.raises(MailboxUnavailable,
                       match=f"{mailbox.code}: TEST_IMAP_PASSWORD is not set"):
        poll(mailbox, settings=settings, now=utcnow)
    assert ticket_count() == 0
    assert dovecot.flagged(imap_user, STORED) == 0
