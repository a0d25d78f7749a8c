"""The scheduler's leader reads the IMAP mailboxes and sends the outbox, with no one asking:
a mail in, a ticket and its acknowledgement out, through a real Dovecot and SMTP peer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.sla.scheduler import Leader, Timing
from helpdesk.tickets.models import Ticket
from tests.conftest import Factory, TieredOrg
from tests.integration.mail.builders import mail
from tests.services.imap import PASSWORD
from tests.support import fast_password_hashing

EVERY_TICK = Timing(tick=timedelta(seconds=1), lease=timedelta(minutes=5), sweep=timedelta(0),
                    mail_poll=timedelta(0))


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def test_a_mail_becomes_a_ticket_and_its_acknowledgement_is_sent(
        database, dovecot, smtp_peer, monkeypatch):
    user = dovecot.new_user()
    monkeypatch.setenv("SCHEDULER_IMAP_PASSWORD", PASSWORD)
    with database.session() as session:
        factory = Factory(database.apps[0].config["HELPDESK"])
        org = TieredOrg(factory)
        factory.mailbox(org.service, imap_host="127.0.0.1", imap_port=dovecot.imap_port,
                        imap_user=user, imap_password_env="SCHEDULER_IMAP_PASSWORD")
        requester = org.requester.email
        session.commit()
    dovecot.deliver(user, mail(sender=requester, subject="Projektorn i sal 3"))

    leader = Leader(database.app(), EVERY_TICK, holder="leader")
    mail_settings = leader.app.config["HELPDESK"].mail
    mail_settings.smtp_host, mail_settings.smtp_port = "127.0.0.1", smtp_peer.port
    assert leader.tick().leader

    with database.session() as session:
        [ticket] = session.scalars(select(Ticket)).all()
        assert ticket.subject == "Projektorn i sal 3"
    [sent] = smtp_peer.messages()
    assert sent["To"] == requester and ticket.reference in sent["Subject"]
    assert dovecot.flagged(user, "$HelpdeskStored") == 1
    # The next tick finds nothing new: no second ticket, no second mail.
    leader.tick()
    assert len(smtp_peer.messages()) == 1
