"""A vendor's mail comes back into the ticket: by our tag, by its case number once learned,
or by the thread headers; it is the vendor's reply, not the requester's nor a stranger's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import Outcome
from helpdesk.sla.models import ClockStatus, Metric
from helpdesk.vendors.models import HandoffMail, HandoffStatus
from helpdesk.vendors.operations import hand_off_to_vendor, write_to_vendor
from tests.integration.mail.builders import mail


@pytest.fixture
def handoff(vendor_org, now, settings):
    v = vendor_org
    return hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent,
                              message="Please look at the mail relay.", now=now,
                              settings=settings)


def get(raw, now, settings):
    return receive(raw, mailbox=None, now=now, settings=settings)


def latest_kinds(ticket, n):
    db.session.expire(ticket, ["events"])
    return [e.kind for e in ticket.events if not e.kind.startswith("sla_clock_")][-n:]


def test_by_our_tag_the_reply_is_the_vendors_and_its_case_number_is_noted(
        vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    later = now + timedelta(minutes=20)
    raw = mail(sender="Acme Support <support@acme.example>",
               subject=f"Re: [{ticket.reference}] A case from the helpdesk [ACME-20417]",
               body="We have opened case ACME-20417 and are looking into it.")
    received = get(raw, later, settings)
    assert received.outcome == Outcome.REPLY and received.ticket_reference == ticket.reference
    assert handoff.case_number == "20417"
    assert ticket.status == "waiting_for_vendor"
    [incoming] = db.session.scalars(select(HandoffMail).where(HandoffMail.incoming)).all()
    assert incoming.message.internal and incoming.message.author is None
    assert "ACME-20417" in incoming.message.body and incoming.sender == "support@acme.example"
    assert latest_kinds(ticket, 2) == ["vendor_replied", "vendor_case_number"]
    assert "requester_replied" not in latest_kinds(ticket, 50)
    assert "mail_note" not in latest_kinds(ticket, 50)
    response = next(c for c in ticket.clocks if c.metric == Metric.UC_RESPONSE)
    assert response.status == ClockStatus.STOPPED and response.breached_at is None


def test_by_their_case_number_once_learned_without_tag_or_headers(vendor_org, handoff, now,
                                                                  settings):
    ticket = vendor_org.ticket
    get(mail(sender="support@acme.example", subject=f"[{ticket.reference}] ACME-20417 opened"),
        now, settings)
    # A colleague of theirs writes from another address of the vendor's domain, in a new thread.
    raw = mail(sender="engineer@acme-mail.example", subject="Update on ACME-20417",
               body="The relay queue is draining now.")
    received = get(raw, now + timedelta(hours=1), settings)
    assert received.ticket_reference == ticket.reference and received.outcome == Outcome.REPLY
    assert latest_kinds(ticket, 1) == ["vendor_replied"]
    assert "draining" in ticket.messages[-1].body


def test_an_unknown_case_number_does_not_land_on_a_ticket(vendor_org, handoff, now, settings):
    raw = mail(sender="support@acme.example", subject="Update on ACME-99999")
    received = get(raw, now, settings)
    assert received.ticket_reference is None  # no mailbox: kept in the quarantine
    assert received.outcome == Outcome.QUARANTINED


def test_by_thread_headers_when_the_subject_lost_our_tag(vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    raw = mail(sender="person@acme.example", subject="Your case", body="Fixed on our side?",
               in_reply_to=f"<{handoff.mail_message_id}>",
               references=f"<{handoff.mail_message_id}>")
    received = get(raw, now, settings)
    assert received.ticket_reference == ticket.reference
    assert latest_kinds(ticket, 1) == ["vendor_replied"]


def test_a_reply_reporting_a_solution_sends_the_ticket_back(vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    raw = mail(sender="support@acme.example",
               subject=f"RE: [{ticket.reference}] ACME-20417 resolved",
               body="We restarted the relay.")
    get(raw, now + timedelta(minutes=10), settings)
    assert ticket.status == "in_progress" and ticket.assigned_group == vendor_org.org.level2
    assert handoff.status == HandoffStatus.SOLVED and handoff.case_number == "20417"
    assert latest_kinds(ticket, 3) == ["vendor_replied", "vendor_case_number", "vendor_solved"]


def test_the_vendors_automatic_receipt_gives_its_case_number_and_nothing_else(
        vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    raw = mail(sender="support@acme.example",
               subject=f"Automatic reply: [{ticket.reference}] case ACME-31337 registered",
               headers={"Auto-Submitted": "auto-replied"})
    received = get(raw, now, settings)
    assert received.outcome == Outcome.IGNORED
    assert handoff.case_number == "31337"
    assert ticket.status == "waiting_for_vendor"
    response = next(c for c in ticket.clocks if c.metric == Metric.UC_RESPONSE)
    assert response.status == ClockStatus.RUNNING  # a receipt is not an answer


def test_the_requesters_reply_on_a_ticket_with_a_vendor_stays_the_requesters(
        vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    raw = mail(sender=vendor_org.org.requester.email, subject=f"Re: [{ticket.reference}] hello",
               body="Any news?")
    assert get(raw, now, settings).outcome == Outcome.REPLY
    assert latest_kinds(ticket, 1) == ["requester_replied"]
    assert handoff.first_reply_at is None


def test_someone_else_quoting_the_vendors_case_number_is_not_the_vendor(vendor_org, handoff, now,
                                                                        settings):
    ticket = vendor_org.ticket
    get(mail(sender="support@acme.example", subject=f"[{ticket.reference}] ACME-20417 opened"),
        now, settings)
    received = get(mail(sender="someone@elsewhere.example", subject="About ACME-20417"),
                   now, settings)
    assert received.ticket_reference is None  # not the vendor: no handoff is looked up for it
    assert latest_kinds(ticket, 1) == ["vendor_case_number"]


def test_a_further_message_to_the_vendor_follows_its_thread_and_its_answer_comes_back(
        vendor_org, handoff, now, settings):
    ticket = vendor_org.ticket
    get(mail(sender="support@acme.example", subject=f"[{ticket.reference}] ACME-20417 opened",
             message_id="<first@acme.example>"), now, settings)
    write_to_vendor(handoff, actor=vendor_org.org.level2_agent, body="Which relay was it?",
                    now=now, settings=settings)
    sent = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "vendor_message")).one()
    assert sent.recipient_email == "support@acme.example"
    assert sent.in_reply_to == "first@acme.example"
    assert f"[{ticket.reference}]" in sent.subject and "20417" in sent.subject
    assert "Which relay was it?" in sent.body
    answer = mail(sender="person@acme.example", subject="Re: relay", body="The second one.",
                  in_reply_to=f"<{sent.message_id}>")
    assert get(answer, now, settings).ticket_reference == ticket.reference
    assert latest_kinds(ticket, 2) == ["written_to_vendor", "vendor_replied"]
