"""A group of mails received together (an IMAP fetch) is written by one flush at its end,
so each mail must see what the group's earlier mails made before any of it is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import User
from helpdesk.core.bulk import inserted_together
from helpdesk.extensions import db
from helpdesk.mail.ingest import Received, receive
from helpdesk.mail.models import InboundMail, Outcome
from helpdesk.tickets.models import Message, Ticket, TicketEvent
from tests.integration.mail.builders import mail


@pytest.fixture
def mailbox(factory, org):
    return factory.mailbox(org.service)


def receive_group(raws: list[bytes], mailbox, now, settings) -> list[Received]:
    """As the IMAP poll receives a group: one bulk block, then one commit."""
    with inserted_together():
        received = [receive(raw, mailbox=mailbox, now=now, settings=settings) for raw in raws]
    db.session.commit()
    return received


def tickets() -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def test_a_reply_by_tag_to_a_ticket_made_earlier_in_the_same_group_lands_on_it(
        org, mailbox, now, settings):
    new = mail(sender=org.requester.email, subject="Skärmen flimrar")
    # Tickets are numbered in order: the group's first ticket gets the year's first number.
    reply = mail(sender=org.requester.email, subject=f"Re: [HD-{now.year}-000001] Skärmen flimrar",
                 body="Nu flimrar den mer.")
    first, second = receive_group([new, reply], mailbox, now, settings)
    [ticket] = tickets()
    assert (first.outcome, second.outcome) == (Outcome.NEW_TICKET, Outcome.REPLY)
    assert second.ticket_reference == ticket.reference == f"HD-{now.year}-000001"
    assert [m.body for m in ticket.messages] == ["Nu flimrar den mer."]


def test_a_colleagues_answer_to_an_earlier_mail_of_the_group_threads_by_its_message_id(
        org, mailbox, now, settings):
    new = mail(sender=org.requester.email, message_id="<first@sender.example>")
    answer = mail(sender=org.local_agent.email, subject="Re: Skrivaren skriver inte ut",
                  in_reply_to="<first@sender.example>", body="Jag tittar på den.")
    _, second = receive_group([new, answer], mailbox, now, settings)
    [ticket] = tickets()
    assert second.outcome == Outcome.REPLY and second.ticket_reference == ticket.reference
    [note] = ticket.messages
    assert note.internal and note.body == "Jag tittar på den."


def test_the_same_mail_twice_in_one_group_makes_one_ticket(org, mailbox, now, settings):
    raw = mail(sender=org.requester.email, message_id="<twice@sender.example>")
    first, again = receive_group([raw, raw], mailbox, now, settings)
    assert not first.duplicate and again.duplicate
    assert again.inbound_id == first.inbound_id
    assert len(tickets()) == 1
    assert db.session.scalar(select(func.count(InboundMail.id))) == 1


def test_a_new_sender_writing_twice_in_one_group_becomes_one_requester(org, mailbox, now,
                                                                       settings):
    raws = [mail(sender="Ny Person <ny.person@example.org>", subject=f"Fråga {n}")
            for n in (1, 2)]
    receive_group(raws, mailbox, now, settings)
    [person] = db.session.scalars(select(User).where(User.email == "ny.person@example.org"))
    assert [t.requester for t in tickets()] == [person, person]


def test_the_sender_limit_counts_the_groups_earlier_mails(org, mailbox, now, settings):
    settings.mail.sender_limit_per_hour, limit = 2, settings.mail.sender_limit_per_hour
    try:
        raws = [mail(sender=org.requester.email, subject=f"Loop {n}") for n in range(3)]
        outcomes = [r.outcome for r in receive_group(raws, mailbox, now, settings)]
    finally:
        settings.mail.sender_limit_per_hour = limit
    assert outcomes == [Outcome.NEW_TICKET, Outcome.NEW_TICKET, Outcome.QUARANTINED]


def test_a_groups_history_names_its_new_tickets_and_messages_in_order(org, mailbox, now,
                                                                      settings):
    new = mail(sender=org.requester.email, subject="Skärmen flimrar")
    reply = mail(sender=org.requester.email, subject=f"Re: [HD-{now.year}-000001] Skärmen")
    receive_group([new, reply], mailbox, now, settings)
    [ticket] = tickets()
    kinds = list(db.session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))
    assert kinds[:2] == ["created", "routed"] and kinds[-1] == "requester_replied"
    [message] = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id))
    assert message.author == org.requester
