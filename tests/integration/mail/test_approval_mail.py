"""Approving an order by replying to the approval mail; only an approver's reply decides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.catalogue.models import Ordering
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import Outcome
from helpdesk.sla.models import Metric
from helpdesk.tickets.models import TicketType
from tests.integration.mail.builders import mail


@pytest.fixture
def approver(factory):
    return factory.user(name="Gunilla Prefekt", locale="sv")


@pytest.fixture
def order(factory, sla_org, approver, now):
    org = sla_org.org
    service = factory.catalogue_service(org.level2, requires_approval=True, approvers=[approver],
                                        sla_policy=sla_org.policy, no_sla=False,
                                        ordering=Ordering.EVERYONE)
    return factory.ticket(org.requester, service, now, ticket_type=TicketType.SERVICE_REQUEST,
                          subject="MATLAB, tre licenser",
                          form_answers=[{"name": "licences", "label": "Antal licenser",
                                         "label_en": None, "type": "number", "value": 3}])


def approval_mail(approver) -> OutboxMessage:
    [sent] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "approval_request")).all()
    assert sent.recipient_email == approver.email
    return sent


def reply(sent: OutboxMessage, sender: str, body: str) -> bytes:
    return mail(sender=sender, subject=f"SV: {sent.subject}", body=body,
                in_reply_to=sent.message_id, references=sent.message_id)


def test_the_approvers_are_asked_in_their_language_with_the_answers_and_how_to_reply(
        order, approver):
    sent = approval_mail(approver)
    assert sent.subject.startswith(f"[{order.reference}] ")
    assert "Antal licenser: 3" in sent.body
    assert "GODKÄNN" in sent.body and "AVSLÅ" in sent.body
    assert "MATLAB, tre licenser" in sent.body


def test_approve_by_reply_starts_the_sla_at_the_reply(order, approver, settings, now):
    later = now + timedelta(hours=5)
    received = receive(reply(approval_mail(approver), approver.email,
                             "Godkänn\n\n> Gunilla, en beställning väntar"),
                       mailbox=None, now=later, settings=settings)
    assert received.outcome == Outcome.REPLY and received.ticket_reference == order.reference
    assert order.status == "new"
    [approved] = [e for e in order.events if e.kind == "approved"]
    assert approved.actor == approver and approved.details["channel"] == "email"
    resolution = next(c for c in order.clocks if c.metric == Metric.RESOLUTION)
    assert resolution.started_at == later


def test_reject_by_reply_keeps_the_reason(order, approver, settings, now):
    receive(reply(approval_mail(approver), approver.email, "REJECT: we already have licences"),
            mailbox=None, now=now, settings=settings)
    assert order.status == "rejected"
    assert order.events[-1].reason == "we already have licences"


def test_a_reply_from_someone_who_is_not_an_approver_does_not_approve(
        order, approver, org, settings, now):
    sent = approval_mail(approver)
    for sender in (org.requester.email, org.local_agent.email, "stranger@elsewhere.example"):
        receive(reply(sent, sender, "Approve"), mailbox=None, now=now, settings=settings)
    assert order.status == "awaiting_approval"
    assert order.clocks == []
    assert not [e for e in order.events if e.kind == "approved"]


def test_an_approvers_reply_without_a_decision_is_kept_and_decides_nothing(
        order, approver, settings, now):
    receive(reply(approval_mail(approver), approver.email, "Who is paying for this?"),
            mailbox=None, now=now, settings=settings)
    assert order.status == "awaiting_approval"
    assert order.messages[-1].body == "Who is paying for this?" and order.messages[-1].internal


def test_the_requester_hears_the_decision_with_the_reason(order, approver, org, settings, now):
    receive(reply(approval_mail(approver), approver.email, "Avslå: vi har campuslicens"),
            mailbox=None, now=now, settings=settings)
    [told] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "approval_decision")).all()
    assert told.recipient_email == org.requester.email
    assert "Gunilla Prefekt has rejected your order" in told.body
    assert "vi har campuslicens" in told.body
