"""Every message of tests/data/mail-corpus/ (other projects' test mail) is received, and
becomes what it should: a ticket with its text and attachments, an ignored auto-reply or
report, an ignored bounce (none of them is about one of our tickets), or the quarantine
with a reason. Never an exception, never silence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import InboundMail, Outcome
from helpdesk.tickets.models import Ticket

CORPUS = Path(__file__).resolve().parents[2] / "data" / "mail-corpus"
TICKET, IGNORED, QUARANTINED = Outcome.NEW_TICKET, Outcome.IGNORED, Outcome.QUARANTINED

# file -> (what it becomes, attachments on the ticket), decided by reading each message.
EXPECTED: dict[str, tuple[Outcome, int]] = {
    "django-helpdesk/all-special-chars.eml": (TICKET, 0),
    "django-helpdesk/blank-body-with-attachment.eml": (TICKET, 1),
    "django-helpdesk/forwarded-message.eml": (TICKET, 0),
    "django-helpdesk/pgp.eml": (TICKET, 1),  # the signature is kept as a file
    "django-helpdesk/quoted_printable.eml": (TICKET, 0),
    "django-helpdesk/utf-nondecodable.eml": (TICKET, 0),
    "flanker/8bitmime.eml": (TICKET, 0),
    "flanker/apache-message-news-mime.eml": (IGNORED, 0),  # list mail (Precedence: bulk)
    "flanker/attached-pdf.eml": (QUARANTINED, 0),  # no From: nobody to answer
    "flanker/bilingual-simple.eml": (TICKET, 0),
    "flanker/bounce_broken-mime.eml": (IGNORED, 0),
    "flanker/bounce_delayed-broken.eml": (IGNORED, 0),
    "flanker/bounce_delayed.eml": (IGNORED, 0),
    "flanker/bounce_gmail-invalid-address.eml": (IGNORED, 0),
    "flanker/bounce_gmail-no-dns.eml": (IGNORED, 0),
    "flanker/bounce_mailbox-full.eml": (IGNORED, 0),
    "flanker/bounce_no-mx.eml": (IGNORED, 0),
    "flanker/bounce_office365.eml": (IGNORED, 0),
    "flanker/bounce_zed.eml": (IGNORED, 0),
    "flanker/bz2-attachment.eml": (TICKET, 1),
    "flanker/complaints_aol.eml": (IGNORED, 0),  # abuse report
    "flanker/complaints_yahoo.eml": (IGNORED, 0),
    "flanker/dashed-boundaries.eml": (TICKET, 0),
    "flanker/disposition-notification.eml": (IGNORED, 0),  # read receipt
    "flanker/enclosed-bad-encoding.eml": (TICKET, 1),  # the enclosed mail is kept as a file
    "flanker/enclosed-broken-body.eml": (TICKET, 1),
    "flanker/enclosed-broken.eml": (TICKET, 1),
    "flanker/enclosed-endless.eml": (TICKET, 1),
    "flanker/enclosed-global.eml": (TICKET, 1),
    "flanker/enclosed.eml": (TICKET, 1),
    "flanker/encoded-header.eml": (TICKET, 0),
    "flanker/false-multipart.eml": (TICKET, 0),
    "flanker/from-encoding.eml": (IGNORED, 0),  # Precedence: bulk
    "flanker/iphone.eml": (TICKET, 1),
    "flanker/long-header.eml": (TICKET, 0),
    "flanker/long-links.eml": (TICKET, 0),
    "flanker/mailformed-headers.eml": (TICKET, 0),
    "flanker/mailgun-pic.eml": (TICKET, 1),
    "flanker/message-external-body.eml": (IGNORED, 0),  # Precedence: bulk
    "flanker/missing-boundaries.eml": (TICKET, 0),
    "flanker/missing-final-boundary.eml": (TICKET, 0),
    "flanker/multi-received-headers.eml": (TICKET, 0),
    "flanker/multipart.eml": (TICKET, 0),
    "flanker/no-ctype.eml": (TICKET, 0),
    "flanker/outlook-express.eml": (TICKET, 1),
    "flanker/quoted-printable.eml": (TICKET, 0),
    "flanker/relative.eml": (TICKET, 0),
    "flanker/russian-attachment-yahoo.eml": (TICKET, 1),
    "flanker/signed.eml": (TICKET, 2),
    "flanker/spam_broken-ctype.eml": (TICKET, 1),
    "flanker/spam_broken-headers.eml": (TICKET, 0),
    "flanker/text-only.eml": (TICKET, 0),
    "flanker/torture-part.eml": (TICKET, 1),
    "flanker/torture.eml": (TICKET, 11),
}


def corpus_files() -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.eml"))


def test_the_table_names_every_message_of_the_corpus():
    assert corpus_files(), f"no corpus at {CORPUS}"
    assert sorted(EXPECTED) == corpus_files()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_becomes_what_it_should(name, factory, org, now, settings):
    mailbox = factory.mailbox(org.service)
    raw = (CORPUS / name).read_bytes()
    outcome, attachments = EXPECTED[name]
    received = receive(raw, mailbox=mailbox, now=now, settings=settings)
    assert (received.outcome, received.duplicate) == (outcome, False), received.reason
    assert received.reason  # every outcome says why
    inbound = db.session.get(InboundMail, received.inbound_id)
    assert (settings.instance_dir / "mail" / inbound.raw_path).read_bytes() == raw
    if outcome == TICKET:
        ticket = db.session.scalars(select(Ticket).where(
            Ticket.reference == received.ticket_reference)).one()
        assert ticket.subject and ticket.description
        assert len(ticket.attachments) == attachments
        assert all(a.size > 0 or a.filename for a in ticket.attachments)
    else:
        assert received.ticket_reference is None
    assert receive(raw, mailbox=mailbox, now=now, settings=settings).duplicate
