"""Orders that need approval: they wait, an approver decides, the SLA runs from approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.catalogue.approvals import approve_order, reject_order, waiting_for
from helpdesk.catalogue.models import RequestFormAnswers
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.extensions import db
from helpdesk.sla.models import ClockStatus, Metric
from helpdesk.tickets.models import TicketType


@pytest.fixture
def approver(factory):
    return factory.user(name="Gunilla Prefekt")


@pytest.fixture
def service(factory, sla_org, approver):
    return factory.catalogue_service(sla_org.org.level2, requires_approval=True,
                                     approvers=[approver], sla_policy=sla_org.policy,
                                     no_sla=False)


@pytest.fixture
def order(factory, org, service, now):
    return factory.ticket(org.requester, service, now, ticket_type=TicketType.SERVICE_REQUEST,
                          form_answers=[{"name": "software", "label": "Programvara",
                                         "label_en": "Software", "type": "text",
                                         "value": "MATLAB"}])


def test_an_order_waits_for_approval_without_clocks(order, approver):
    assert order.status == "awaiting_approval"
    assert order.clocks == [] and order.sla_due_at is None
    assert [e.kind for e in order.events] == ["created", "routed", "approval_requested"]
    assert waiting_for(approver) == [order]
    assert db.session.get(RequestFormAnswers, order.id).answers[0]["value"] == "MATLAB"


def test_a_problem_report_about_the_same_service_needs_no_approval(factory, org, service, now):
    ticket = factory.ticket(org.requester, service, now)
    assert ticket.status == "new" and ticket.clocks


def test_approval_puts_the_order_in_the_queue_and_starts_the_clocks_then(
        order, approver, settings, now):
    later = now + timedelta(days=2)
    approve_order(order, approver=approver, now=later, settings=settings)
    assert order.status == "new"
    resolution = next(c for c in order.clocks if c.metric == Metric.RESOLUTION)
    assert resolution.started_at == later and resolution.status == ClockStatus.RUNNING
    assert {c.metric for c in order.clocks} >= {Metric.FIRST_RESPONSE, Metric.RESOLUTION}
    [approved] = [e for e in order.events if e.kind == "approved"]
    assert approved.actor == approver and approved.at == later
    assert waiting_for(approver) == []


def test_rejection_ends_the_order_with_the_reason(order, approver, settings, now):
    with pytest.raises(DomainError, match="Give a reason"):
        reject_order(order, approver=approver, reason=" ", now=now, settings=settings)
    reject_order(order, approver=approver, reason="Too expensive", now=now, settings=settings)
    assert order.status == "rejected" and order.closed_at == now and order.clocks == []
    assert order.events[-1].kind == "rejected" and order.events[-1].reason == "Too expensive"


def test_someone_who_is_not_an_approver_cannot_decide(order, org, settings, now):
    for person in (org.requester, org.admin, org.local_agent):
        with pytest.raises(NotFound):
            approve_order(order, approver=person, now=now, settings=settings)
    assert order.status == "awaiting_approval"


def test_a_decided_order_cannot_be_decided_again(order, approver, settings, now):
    approve_order(order, approver=approver, now=now, settings=settings)
    with pytest.raises(DomainError):
        reject_order(order, approver=approver, reason="Changed my mind", now=now,
                     settings=settings)
