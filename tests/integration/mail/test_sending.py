"""Sending the outbox to a real SMTP peer: what goes out, once, and what waits when it cannot.

The peer is aiosmtpd in a process of its own (``tests.services.smtp``); an outage is the
peer stopped and started again on the same port.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.config import Settings
from helpdesk.core.outbox import OutboxMessage, queue_message
from helpdesk.extensions import db
from helpdesk.mail.sender import PERMANENT_ATTEMPTS, backoff, send_due
from helpdesk.tickets.models import Channel
from helpdesk.tickets.operations import add_reply, take_ticket
from tests.services.smtp import BUSY_DOMAIN, REFUSED_DOMAIN
from tests.support import fast_password_hashing

MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def relaying(settings: Settings, peer) -> Settings:
    """The app's settings with the peer as the mail server (the shared ones stay untouched)."""
    mail = dataclasses.replace(settings.mail, smtp_host="127.0.0.1", smtp_port=peer.port,
                               sender="Helpdesk <helpdesk@helpdesk.test>", domain="helpdesk.test")
    return dataclasses.replace(settings, mail=mail)


def header(received, name: str) -> str | None:
    """A header's value unfolded (a long one is folded onto a second line when sent)."""
    value = received[name]
    return None if value is None else " ".join(str(value).split())


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def conversation(org, factory, settings, now):
    """A mailed ticket (acknowledged) and an agent's public reply: two mails to the requester."""
    ticket = factory.ticket(org.requester, org.service, now, channel=Channel.EMAIL)
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    add_reply(ticket, actor=org.local_agent, body="Vi byter tonern i dag.", internal=False,
              now=now + MINUTE, settings=settings)
    db.session.flush()
    return ticket


def test_each_mail_goes_out_once_with_text_html_and_thread_headers(
        conversation, org, settings, now, smtp_peer):
    relay = relaying(settings, smtp_peer)
    result = send_due(now=now + 2 * MINUTE, settings=relay)
    assert (result.sent, result.retrying, result.given_up, result.stopped) == (2, 0, 0, None)
    ack, reply = smtp_peer.messages()
    queued = rows()
    root = f"<ticket.{conversation.reference}@{settings.mail.domain}>"
    for received, row in zip((ack, reply), queued, strict=True):
        assert received["From"] == "Helpdesk <helpdesk@helpdesk.test>"
        assert received["To"] == org.requester.email
        assert received["X-RcptTo"] == org.requester.email  # the envelope, as the peer saw it
        assert header(received, "Subject") == row.subject
        assert header(received, "Subject").startswith(f"[{conversation.reference}] ")
        assert header(received, "Message-ID") == f"<{row.message_id}>"
        assert re.fullmatch(rf"<[0-9a-f]{{32}}\.{conversation.reference}@[^>]+>",
                            header(received, "Message-ID"))
        assert header(received, "In-Reply-To") == root == header(received, "References")
        assert received["Content-Language"] == "en"
        assert received.get_content_type() == "multipart/alternative"
        text = received.get_body(("plain",)).get_content()
        html = received.get_body(("html",)).get_content()
        assert text.replace("\r\n", "\n").strip() == row.body.strip()
        assert html.strip() == row.html_body.strip() and 'lang="en"' in html
        assert row.sent_at == now + 2 * MINUTE
    # The acknowledgement is automatic and answers a mail; the agent's reply is theirs.
    assert (ack["Auto-Submitted"], ack["X-Auto-Response-Suppress"]) == ("auto-replied", "All")
    assert (reply["Auto-Submitted"], reply["X-Auto-Response-Suppress"]) == (None, None)
    assert "Vi byter tonern i dag." in reply.get_body(("plain",)).get_content()

    # Nothing is sent twice, however often the sender runs.
    again = send_due(now=now + 3 * MINUTE, settings=relay)
    assert (again.sent, again.retrying) == (0, 0)
    assert len(smtp_peer.messages()) == 2


def test_without_an_smtp_host_nothing_is_sent_and_the_outbox_keeps_the_mail(
        conversation, settings, now):
    assert settings.mail.smtp_host == ""
    result = send_due(now=now, settings=settings)
    assert result.not_configured and result.sent == 0
    assert "HELPDESK_SMTP_HOST" in result.summary()
    assert [(r.sent_at, r.attempts) for r in rows()] == [(None, 0), (None, 0)]


def test_while_the_server_is_down_mail_waits_and_then_arrives_exactly_once(
        conversation, org, settings, now, smtp_peer):
    relay = relaying(settings, smtp_peer)
    queue_message(kind="test", recipient_email="third@example.org", subject="Tredje",
                  body="Tre.", now=now)
    db.session.flush()
    smtp_peer.stop()

    down = send_due(now=now, settings=relay)
    assert (down.sent, down.retrying) == (0, 1) and "could not be reached" in down.stopped
    first, second, third = rows()
    # The mail being sent waits its back-off with the error; the others keep their place.
    assert (first.attempts, first.next_attempt_at) == (1, now + MINUTE)
    assert "could not be reached" in first.last_error and "127.0.0.1" in first.last_error
    assert [(r.attempts, r.next_attempt_at, r.last_error) for r in (second, third)] == [
        (0, None, None), (0, None, None)]

    still_down = send_due(now=now + MINUTE, settings=relay)
    assert still_down.stopped and rows()[0].attempts == 2
    assert rows()[0].next_attempt_at == now + MINUTE + 2 * MINUTE

    smtp_peer.start()
    back = send_due(now=now + 2 * MINUTE, settings=relay)
    assert (back.sent, back.stopped) == (2, None)  # the first one is not due again yet
    last = send_due(now=now + 3 * MINUTE, settings=relay)
    assert last.sent == 1
    assert send_due(now=now + 10 * MINUTE, settings=relay).sent == 0
    sent = [header(m, "Message-ID") for m in smtp_peer.messages()]
    assert sorted(sent) == sorted(f"<{r.message_id}>" for r in rows())
    assert len(set(sent)) == 3 and all(r.sent_at is not None for r in rows())


def test_a_recipient_refused_for_good_is_given_up_and_kept_with_the_servers_answer(
        org, settings, now, smtp_peer):
    relay = relaying(settings, smtp_peer)
    queue_message(kind="test", recipient_email=f"nobody@{REFUSED_DOMAIN}", subject="Nej",
                  body="x", now=now)
    queue_message(kind="test", recipient_email="someone@example.org", subject="Ja", body="y",
                  now=now)
    db.session.flush()
    first = send_due(now=now, settings=relay)
    assert (first.sent, first.retrying, first.stopped) == (1, 1, None)  # the batch went on
    moment = now
    for attempt in range(2, PERMANENT_ATTEMPTS + 1):
        moment = rows()[0].next_attempt_at
        send_due(now=moment, settings=relay)
        assert rows()[0].attempts == attempt
    refused = rows()[0]
    assert (refused.sent_at, refused.next_attempt_at) == (None, None)  # given up
    assert refused.last_error.startswith("550") and "No such mailbox" in refused.last_error
    assert send_due(now=moment + timedelta(days=1), settings=relay).sent == 0
    assert [m["To"] for m in smtp_peer.messages()] == ["someone@example.org"]


def test_a_recipient_busy_for_now_is_tried_again_with_growing_pauses(org, settings, now, smtp_peer):
    relay = relaying(settings, smtp_peer)
    queue_message(kind="test", recipient_email=f"full@{BUSY_DOMAIN}", subject="Sen", body="x",
                  now=now)
    db.session.flush()
    moment, pauses = now, []
    for _ in range(PERMANENT_ATTEMPTS + 2):
        send_due(now=moment, settings=relay)
        row = rows()[0]
        pauses.append(row.next_attempt_at - moment)
        moment = row.next_attempt_at
    assert pauses == [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE]
    assert rows()[0].last_error.startswith("451")
    # Five days after it was written, a temporary refusal is given up too (RFC 5321).
    send_due(now=now + timedelta(days=5), settings=relay)
    assert (rows()[0].next_attempt_at, rows()[0].sent_at) == (None, None)


def test_the_back_off_doubles_from_a_minute_to_at_most_an_hour():
    assert [backoff(n) // MINUTE for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_helpdesk_mail_send_sends_what_is_due_and_says_so(
        conversation, app, settings, smtp_peer):
    from helpdesk.cli import main as helpdesk_cli

    runner = app.test_cli_runner()
    result = runner.invoke(helpdesk_cli, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("No SMTP host is set (HELPDESK_SMTP_HOST): nothing sent, "
                                     "the outbox keeps the mail.")
    original = settings.mail
    settings.mail = relaying(settings, smtp_peer).mail
    try:
        result = runner.invoke(helpdesk_cli, ["mail", "send"])
    finally:
        settings.mail = original
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 2 messages; 0 to retry later; 0 given up."
    assert len(smtp_peer.messages()) == 2


@pytest.mark.postgres
def test_a_mail_another_sender_is_sending_is_skipped_not_sent_twice(tmp_path, monkeypatch,
                                                                     smtp_peer):
    """Two schedulers at once: each claims its rows with FOR UPDATE SKIP LOCKED."""
    from helpdesk import create_app
    from tests.conftest import NOW
    from tests.support import fresh_database

    with fresh_database("postgresql", tmp_path, "outbox") as url:
        monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        try:
            with app.app_context():
                db.create_all()
                for n in range(3):
                    queue_message(kind="test", recipient_email=f"r{n}@example.org",
                                  subject=f"Nummer {n}", body="x", now=NOW)
                db.session.commit()
                first = min(db.session.scalars(select(OutboxMessage.id)))
                relay = relaying(app.config["HELPDESK"], smtp_peer)
                table = OutboxMessage.__table__
                with db.engine.connect() as other, other.begin():
                    # The other sender has claimed the first mail and is talking to the server.
                    other.execute(select(table.c.id).where(table.c.id == first).with_for_update())
                    assert send_due(now=NOW, settings=relay).sent == 2
                assert send_due(now=NOW, settings=relay).sent == 1
                assert send_due(now=NOW, settings=relay).sent == 0
                assert sorted(m["To"] for m in smtp_peer.messages()) == [
                    "r0@example.org", "r1@example.org", "r2@example.org"]
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
