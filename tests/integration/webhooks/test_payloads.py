"""What a webhook says of the ticket: the ticket as the step left it, for every step a
receiving service desk must follow (a reopen, an order's approval)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.catalogue.approvals import approve_order, reject_order
from helpdesk.extensions import db
from helpdesk.tickets.models import TicketType
from helpdesk.tickets.operations import (
    ask_requester,
    reopen_ticket,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.webhooks.models import WebhookDelivery
from helpdesk.webhooks.subscriptions import add_subscription

EVERY_EVENT = ["ticket.created", "ticket.transitioned", "ticket.escalated"]


def posted() -> list[tuple[str, str, dict]]:
    """(event, history kind, ticket) of each delivery queued so far, oldest first."""
    db.session.flush()
    return [(d.event, d.payload["kind"], d.payload["ticket"]) for d in db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id))]


def test_a_reopened_ticket_is_shown_back_with_its_owner_group_unassigned(
        factory, org, settings, now):
    ticket = factory.ticket(org.requester, org.service, now)
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=now, settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.level2_agent, note="Omstartad.", now=now,
                   settings=settings)
    add_subscription(name="grannen", url="http://127.0.0.1:9/", events=EVERY_EVENT, now=now)

    reopen_ticket(ticket, actor=org.requester, actor_kind="requester",
                  message="Det hände igen.", now=now + timedelta(hours=1), settings=settings)

    [(event, kind, shown)] = posted()
    assert (event, kind) == ("ticket.transitioned", "reopened")
    assert {key: shown[key] for key in ("status", "assigned_group", "tier", "assignee",
                                        "resolved_at")} == {
        "status": ticket.status, "assigned_group": "local", "tier": 1, "assignee": None,
        "resolved_at": None}


def test_an_order_is_followed_through_its_approval(factory, org, sla_org, settings, now):
    approver = factory.user(name="Gunilla Prefekt")
    service = factory.catalogue_service(sla_org.org.level2, requires_approval=True,
                                        approvers=[approver], sla_policy=sla_org.policy,
                                        no_sla=False)
    add_subscription(name="grannen", url="http://127.0.0.1:9/", events=EVERY_EVENT, now=now)
    order = factory.ticket(org.requester, service, now, ticket_type=TicketType.SERVICE_REQUEST)
    approve_order(order, approver=approver, now=now + timedelta(hours=1), settings=settings)

    steps = [(event, kind, shown["status"], shown["sla_state"])
             for event, kind, shown in posted()]
    assert steps == [("ticket.created", "created", "new", None),
                     ("ticket.transitioned", "approval_requested", "awaiting_approval", None),
                     ("ticket.transitioned", "approved", "new", "ok")]


def test_a_rejected_order_is_posted_as_rejected(factory, org, sla_org, settings, now):
    approver = factory.user(name="Gunilla Prefekt")
    service = factory.catalogue_service(sla_org.org.level2, requires_approval=True,
                                        approvers=[approver])
    order = factory.ticket(org.requester, service, now, ticket_type=TicketType.SERVICE_REQUEST)
    add_subscription(name="grannen", url="http://127.0.0.1:9/", events=EVERY_EVENT, now=now)

    reject_order(order, approver=approver, reason="För dyrt", now=now, settings=settings)

    [(event, kind, shown)] = posted()
    assert (event, kind, shown["status"]) == ("ticket.transitioned", "rejected", "rejected")
    assert shown["closed_at"] is not None


def test_a_requesters_answer_is_a_step_and_a_word_in_between_is_not(factory, org, settings, now):
    ticket = factory.ticket(org.requester, org.service, now)
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    add_subscription(name="grannen", url="http://127.0.0.1:9/", events=EVERY_EVENT, now=now)
    requester_reply(ticket, actor=org.requester, body="Det gäller skrivaren.", now=now,
                    settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken?", now=now, settings=settings)
    requester_reply(ticket, actor=org.requester, body="Den på plan 3.", now=now,
                    settings=settings)

    assert [(kind, shown["status"]) for _, kind, shown in posted()] == [
        ("asked_requester", "waiting_for_customer"), ("requester_replied", "in_progress")]
