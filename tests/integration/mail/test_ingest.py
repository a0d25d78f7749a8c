"""Receiving mail: new tickets, replies threaded by tag and Message-IDs, noise, loops and
the quarantine, each stored exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import Role, User
from helpdesk.core.outbox import OutboxMessage, queue_message
from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import InboundMail, Outcome
from helpdesk.mail.quarantine import release
from helpdesk.tickets.models import Channel, Ticket
from helpdesk.tickets.operations import ask_requester, resolve_ticket, take_ticket
from tests.integration.mail.builders import bounce, mail


@pytest.fixture
def mailbox(factory, org):
    return factory.mailbox(org.service)


@pytest.fixture
def ticket(factory, org, now):
    return factory.ticket(org.requester, org.service, now)


def tickets() -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def outbox_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id))) or 0


def get(raw, mailbox, now, settings):
    return receive(raw, mailbox=mailbox, now=now, settings=settings)


def test_a_mail_from_a_requester_becomes_a_ticket_in_the_mailboxs_service(
        org, mailbox, now, settings):
    raw = mail(sender=f"Anna <{org.requester.email.upper()}>", subject="SV: Skrivaren är trasig",
               body="Den skriver inte ut.\n\n-- \nAnna, kemi")
    received = get(raw, mailbox, now, settings)
    [ticket] = tickets()
    assert received.outcome == Outcome.NEW_TICKET and received.ticket_reference == ticket.reference
    assert (ticket.requester, ticket.service, ticket.channel) == (org.requester, org.service,
                                                                  Channel.EMAIL)
    assert ticket.subject == "Skrivaren är trasig"  # the reply prefix is not part of the matter
    assert ticket.description.startswith("Den skriver inte ut.")
    assert ticket.assigned_group == org.local  # routed like any other ticket of the service
    inbound = db.session.get(InboundMail, received.inbound_id)
    assert (settings.instance_dir / "mail" / inbound.raw_path).read_bytes() == raw
    assert [e.kind for e in ticket.events][:2] == ["created", "routed"]


def test_the_same_mail_twice_is_received_once(org, mailbox, now, settings):
    raw = mail(sender=org.requester.email, message_id="<once@sender.example>")
    first = get(raw, mailbox, now, settings)
    # The same mail again, with the headers another delivery adds.
    again = get(b"Received: from mx2.example by helpdesk; Tue, 10 Mar 2026 10:01:00 +0100\r\n"
                + raw, mailbox, now, settings)
    assert again.duplicate and again.inbound_id == first.inbound_id
    assert len(tickets()) == 1


def test_a_reused_message_id_with_other_content_is_not_taken_for_a_duplicate(
        org, mailbox, now, settings):
    get(mail(sender=org.requester.email, message_id="<same@x>", body="one"), mailbox, now, settings)
    second = get(mail(sender=org.requester.email, message_id="<same@x>", body="two"), mailbox, now,
                 settings)
    assert not second.duplicate and len(tickets()) == 2


def test_a_reply_with_the_tag_answers_the_question_and_resumes_work(
        org, ticket, mailbox, now, settings):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=now,
                  settings=settings)
    assert ticket.status == "waiting_for_customer"
    raw = mail(sender=org.requester.email, subject=f"Re: [{ticket.reference}] Skrivaren",
               body="Den i korridoren.\n\n> Vilken skrivare?")
    received = get(raw, mailbox, now + timedelta(hours=1), settings)
    assert received.outcome == Outcome.REPLY and ticket.status == "in_progress"
    message = ticket.messages[-1]
    assert (message.author, message.internal) == (org.requester, False)
    assert message.body.startswith("Den i korridoren.") and message.mail_message_id
    assert len(tickets()) == 1


def test_a_reply_threads_by_in_reply_to_our_message_id_without_any_tag(
        org, ticket, mailbox, now, settings):
    queue_message(kind="ticket_created", recipient_email=org.requester.email, subject="x", body="y",
                  now=now, ticket_id=ticket.id)
    sent = db.session.scalars(select(OutboxMessage)).one()
    sent.message_id = f"abc.{ticket.reference}@{settings.mail.domain}"
    db.session.flush()
    raw = mail(sender=org.requester.email, subject="Re: your question",
               in_reply_to=f"<{sent.message_id}>")
    assert get(raw, mailbox, now, settings).ticket_reference == ticket.reference


def test_a_reply_threads_by_the_tickets_root_id_in_references(org, ticket, mailbox, now, settings):
    root = f"<ticket.{ticket.reference}@{settings.mail.domain}>"
    raw = mail(sender=org.requester.email, subject="Re: hello",
               references=f"<unrelated@x.example> {root}")
    assert get(raw, mailbox, now, settings).ticket_reference == ticket.reference


def test_the_same_subject_words_alone_never_thread(org, ticket, mailbox, now, settings):
    raw = mail(sender=org.requester.email, subject=f"Re: {ticket.subject}")
    received = get(raw, mailbox, now, settings)
    assert received.outcome == Outcome.NEW_TICKET and received.ticket_reference != ticket.reference


def test_a_reply_to_a_ticket_closed_too_long_ago_opens_a_new_linked_ticket(
        org, ticket, mailbox, now, settings):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Bytt toner.", now=now, settings=settings)
    later = now + timedelta(days=settings.reopen_days + 30)
    raw = mail(sender=org.requester.email, subject=f"Re: [{ticket.reference}] Skrivaren")
    received = get(raw, mailbox, later, settings)
    assert received.outcome == Outcome.NEW_TICKET and received.ticket_reference != ticket.reference
    new = db.session.scalars(select(Ticket).where(Ticket.reference == received.ticket_reference)).one()
    assert new.description.startswith(f"[{ticket.reference}]")
    assert [e.details["reference"] for e in ticket.events if e.kind == "followed_up_by"] == [
        new.reference]


@pytest.mark.parametrize(("subject", "named"), [
    # A reply to the resolution mail: named as the old ticket was, without its tag.
    ("Re: [{reference}] Löst: {subject}", "{subject}"),
    ("SV: Re: [{reference}] Resolved: {subject}", "{subject}"),
    # The requester wrote a subject of their own: that, without the tag.
    ("Re: [{reference}] Skrivaren krånglar igen", "Skrivaren krånglar igen"),
    ("Re: [{reference}]", "{subject}"),
])
def test_a_follow_up_ticket_is_named_without_the_old_tag(org, ticket, mailbox, now, settings,
                                                         subject, named):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Bytt toner.", now=now, settings=settings)
    later = now + timedelta(days=settings.reopen_days + 30)
    raw = mail(sender=org.requester.email,
               subject=subject.format(reference=ticket.reference, subject=ticket.subject))
    received = get(raw, mailbox, later, settings)
    new = db.session.scalars(select(Ticket).where(Ticket.reference == received.ticket_reference)).one()
    assert new.subject == named.format(subject=ticket.subject)


def test_the_follow_up_of_a_confidential_ticket_is_confidential_too(
        factory, org, mailbox, now, settings):
    secret = factory.ticket(org.requester, org.service, now, confidential=True)
    take_ticket(secret, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(secret, actor=org.local_agent, note="Klart.", now=now, settings=settings)
    later = now + timedelta(days=settings.reopen_days + 30)
    received = get(mail(sender=org.requester.email, subject=f"Re: [{secret.reference}] Lönen"),
                   mailbox, later, settings)
    new = db.session.scalars(select(Ticket).where(Ticket.reference == received.ticket_reference)).one()
    # It carries the old subject and quotes its text: it is read by the same few.
    assert new.confidential


def test_a_resolved_ticket_reopens_when_the_requester_replies_in_time(
        org, ticket, mailbox, now, settings):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Bytt toner.", now=now, settings=settings)
    raw = mail(sender=org.requester.email, subject=f"Re: [{ticket.reference}] Skrivaren",
               body="Det hjälpte inte.")
    assert get(raw, mailbox, now + timedelta(days=1), settings).outcome == Outcome.REPLY
    assert ticket.status == "open" and ticket.assigned_group == ticket.owner_group


def test_mail_from_someone_else_is_a_note_for_the_staff_and_moves_nothing(
        org, ticket, mailbox, now, settings):
    status = ticket.status
    raw = mail(sender=org.other_requester.email, subject=f"[{ticket.reference}] jag har samma fel")
    received = get(raw, mailbox, now, settings)
    note = ticket.messages[-1]
    assert received.outcome == Outcome.REPLY and note.internal and note.author == org.other_requester
    assert ticket.status == status


def test_an_auto_reply_makes_no_ticket_and_no_answer(org, ticket, mailbox, now, settings):
    raw = mail(sender=org.requester.email, subject=f"Autosvar: [{ticket.reference}] Skrivaren",
               headers={"Auto-Submitted": "auto-replied"}, body="Jag är på semester.")
    messages, mails = len(ticket.messages), outbox_count()
    received = get(raw, mailbox, now, settings)
    assert received.outcome == Outcome.IGNORED and "Auto-Submitted" in received.reason
    assert (len(tickets()), len(ticket.messages), outbox_count()) == (1, messages, mails)


def test_a_bounce_is_a_note_on_its_ticket_and_never_reopens_it(org, ticket, mailbox, now, settings):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=now, settings=settings)
    ours = f"<n1.{ticket.reference}@{settings.mail.domain}>"
    original = mail(sender=settings.mail.sender, to=org.requester.email, message_id=ours,
                    subject=f"[{ticket.reference}] Löst")
    mails_before = outbox_count()
    received = get(bounce(original=original, recipient=org.requester.email), mailbox, now, settings)
    assert received.outcome == Outcome.BOUNCE and ticket.status == "resolved"
    note = ticket.messages[-1]
    assert note.internal and org.requester.email in note.body and "5.1.1" in note.body
    assert outbox_count() == mails_before  # nobody is told about a bounce by mail


def test_our_own_mail_coming_back_is_ignored(org, mailbox, now, settings):
    raw = mail(sender=settings.mail.sender, subject="[HD-2026-000001] Ditt ärende")
    assert get(raw, mailbox, now, settings).outcome == Outcome.IGNORED and tickets() == []


def test_a_runaway_sender_is_stopped_by_the_hourly_limit(org, mailbox, now, settings):
    settings.mail.sender_limit_per_hour, limit = 3, settings.mail.sender_limit_per_hour
    try:
        outcomes = [get(mail(sender=org.requester.email, body=f"loop {n}"), mailbox,
                        now + timedelta(minutes=n), settings).outcome for n in range(5)]
    finally:
        settings.mail.sender_limit_per_hour = limit
    assert outcomes == [Outcome.NEW_TICKET] * 3 + [Outcome.QUARANTINED] * 2
    assert len(tickets()) == 3


def test_an_unknown_sender_becomes_a_requester_without_a_password(mailbox, now, settings):
    get(mail(sender="Okänd Person <okand@example.org>"), mailbox, now, settings)
    user = db.session.scalars(select(User).where(User.email == "okand@example.org")).one()
    assert (user.role, user.name, user.password_hash) == (Role.REQUESTER, "Okänd Person", None)
    assert tickets()[0].requester == user


def test_instructions_for_unknown_senders_and_a_release_from_the_quarantine(
        org, mailbox, now, settings):
    settings.mail.unknown_senders = "instruct"
    try:
        received = get(mail(sender="okand@example.org"), mailbox, now, settings)
    finally:
        settings.mail.unknown_senders = "allow"
    assert received.outcome == Outcome.QUARANTINED and tickets() == []
    [answer] = db.session.scalars(select(OutboxMessage)).all()  # and no acknowledgement
    assert answer.recipient_email == "okand@example.org" and "/" in answer.subject  # sv / en
    inbound = db.session.get(InboundMail, received.inbound_id)
    release(inbound, actor=org.admin, now=now, settings=settings)
    assert inbound.outcome == Outcome.RELEASED and inbound.released_by == org.admin
    assert tickets()[0].requester.email == "okand@example.org"


def test_a_mail_over_the_size_limit_is_kept_and_the_sender_told(org, mailbox, now, settings):
    settings.mail.max_message_bytes, limit = 2000, settings.mail.max_message_bytes
    try:
        received = get(mail(sender=org.requester.email, body="x" * 5000), mailbox, now, settings)
    finally:
        settings.mail.max_message_bytes = limit
    assert received.outcome == Outcome.QUARANTINED and received.refused
    assert [m.recipient_email for m in db.session.scalars(select(OutboxMessage))] == [
        org.requester.email]


def test_something_that_is_not_a_mail_is_kept_in_the_quarantine(mailbox, now, settings):
    received = get(b"", mailbox, now, settings)
    assert received.outcome == Outcome.QUARANTINED and received.refused


def test_attachments_are_stored_and_one_over_the_limit_is_named(org, mailbox, now, settings):
    settings.max_attachment_bytes, limit = 1000, settings.max_attachment_bytes
    try:
        get(mail(sender=org.requester.email, attachments=(
            ("Årsrapport.pdf", "application/pdf", b"%PDF-1.4 small"),
            ("stor.zip", "application/zip", b"z" * 5000))), mailbox, now, settings)
    finally:
        settings.max_attachment_bytes = limit
    [ticket] = tickets()
    assert [a.filename for a in ticket.attachments] == ["Årsrapport.pdf"]
    assert "stor.zip" in ticket.description


def test_an_html_mail_is_kept_sanitised_beside_its_text(org, ticket, mailbox, now, settings):
    html = ('<p>Hej <b>där</b></p><script>alert(1)</script><p onclick="x()">klick</p>'
            '<img src="https://tracker.example/p.gif">')
    get(mail(sender=org.requester.email, subject=f"[{ticket.reference}]", body="Hej där\nklick",
             html=html), mailbox, now, settings)
    message = ticket.messages[-1]
    assert "<b>där</b>" in message.html_body
    assert "script" not in message.html_body and "onclick" not in message.html_body
    assert "tracker.example" not in message.html_body


def test_a_mailbox_with_its_own_group_sends_new_tickets_there(factory, org, now, settings):
    mailbox = factory.mailbox(org.service, group=org.desk)
    received = get(mail(sender=org.requester.email), mailbox, now, settings)
    ticket = db.session.scalars(select(Ticket).where(
        Ticket.reference == received.ticket_reference)).one()
    assert ticket.assigned_group == org.desk  # not the requester's local helpdesk
