"""Handing a ticket to a vendor, hearing that it is solved, recalling it, and a second vendor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.core.errors import DomainError
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.sla.models import ClockStatus, Metric
from helpdesk.tickets.operations import resolve_ticket, take_ticket
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.vendors.models import HandoffStatus
from helpdesk.vendors.operations import (
    allowed_routes,
    hand_off_to_vendor,
    recall_handoff,
    record_vendor_reply,
    vendor_solved,
)
from helpdesk.vendors.presentation import vendor_panel


def vendor_mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))


def kinds(ticket) -> list[str]:
    db.session.expire(ticket, ["events"])
    return [e.kind for e in ticket.events if not e.kind.startswith("sla_clock_")]


def uc_clocks(ticket, handoff):
    return {c.metric: c for c in ticket.clocks if c.handoff_id == handoff.id}


def hand_to_acme(v, now, settings, message="Please look at the mail relay."):
    return hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent, message=message,
                              now=now, settings=settings)


def test_a_handoff_waits_for_the_vendor_mails_it_and_starts_the_uc_clocks(vendor_org, now,
                                                                          settings):
    v = vendor_org
    handoff = hand_to_acme(v, now, settings)
    assert v.ticket.status == "waiting_for_vendor"
    assert v.ticket.assigned_group == v.org.level2  # the group keeps it in its queue
    [mail] = vendor_mails("vendor_handoff")
    assert mail.recipient_email == "support@acme.example"
    assert f"[{v.ticket.reference}]" in mail.subject
    assert "Please look at the mail relay." in mail.body
    assert mail.message_id == handoff.mail_message_id
    assert mail.in_reply_to == f"ticket.{v.ticket.reference}@{settings.mail.domain}"
    clocks = uc_clocks(v.ticket, handoff)
    assert set(clocks) == {Metric.UC_RESPONSE, Metric.UC_RESOLUTION}
    assert clocks[Metric.UC_RESPONSE].calendar == v.sla.calendar
    assert clocks[Metric.UC_RESPONSE].due_at == now + timedelta(hours=1)
    assert all(c.status == ClockStatus.RUNNING for c in clocks.values())
    event = next(e for e in v.ticket.events if e.kind == "handed_to_vendor")
    assert (event.from_status, event.to_status) == ("in_progress", "waiting_for_vendor")
    assert event.details["vendor"] == "acme" and event.details["handoff_id"] == handoff.id
    # The customer's SLA keeps running while the vendor works.
    resolution = next(c for c in v.ticket.clocks if c.metric == Metric.RESOLUTION)
    assert resolution.status == ClockStatus.RUNNING


def test_only_the_vendors_the_service_allows_at_the_groups_level_are_offered(vendor_org, now,
                                                                             settings):
    v = vendor_org
    assert [r.vendor for r in allowed_routes(v.ticket)] == [v.acme]  # Beta only from level 3
    with pytest.raises(DomainError, match="may not be handed to that vendor"):
        hand_off_to_vendor(v.ticket, vendor=v.beta, actor=v.org.level2_agent, message="x",
                           now=now, settings=settings)
    with pytest.raises(DomainError, match="Only members"):
        hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.local_agent, message="x",
                           now=now, settings=settings)
    with pytest.raises(DomainError, match="Write a message"):
        hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent, message=" ",
                           now=now, settings=settings)
    assert v.ticket.status == "in_progress"


def test_a_solution_returns_the_ticket_to_the_group_that_handed_it_over(vendor_org, now,
                                                                        settings):
    v = vendor_org
    handoff = hand_to_acme(v, now, settings)
    later = now + timedelta(minutes=30)
    vendor_solved(handoff, actor=v.org.level2_agent, note="Relay restarted.", now=later,
                  settings=settings)
    assert v.ticket.status == "in_progress" and v.ticket.assigned_group == v.org.level2
    assert handoff.status == HandoffStatus.SOLVED and handoff.closed_at == later
    assert all(c.status == ClockStatus.STOPPED for c in uc_clocks(v.ticket, handoff).values())
    assert kinds(v.ticket)[-2:] == ["vendor_replied", "vendor_solved"]
    # The group verifies with the requester and resolves.
    resolve_ticket(v.ticket, actor=v.org.level2_agent, note="Fixed by the vendor.",
                   now=later, settings=settings)
    assert v.ticket.status == "resolved"


def test_a_recall_takes_the_ticket_back_and_tells_the_vendor(vendor_org, now, settings):
    v = vendor_org
    handoff = hand_to_acme(v, now, settings)
    record_vendor_reply(handoff, body="We look at it. Case ACME-4711.", now=now, settings=settings,
                        sender="support@acme.example", case_number="4711")
    recall_handoff(handoff, actor=v.org.level2_agent, reason="We found the fault ourselves.",
                   now=now + timedelta(hours=1), settings=settings)
    assert v.ticket.status == "in_progress"
    assert handoff.status == HandoffStatus.RECALLED
    [recall] = vendor_mails("vendor_recall")
    assert recall.recipient_email == "support@acme.example"
    assert recall.in_reply_to == handoff.mail_message_id
    assert "4711" in recall.body and "We found the fault ourselves." in recall.body
    assert "handoff_recalled" in kinds(v.ticket)
    with pytest.raises(DomainError, match="no longer open"):
        recall_handoff(handoff, actor=v.org.level2_agent, reason="again", now=now,
                       settings=settings)


def test_a_second_vendor_holds_the_ticket_until_both_are_done(vendor_org, now, settings):
    v = vendor_org
    escalate_ticket(v.ticket, to_group=v.org.level3, actor=v.org.level2_agent, reason="L3",
                    now=now, settings=settings)
    take_ticket(v.ticket, actor=v.org.level3_agent, now=now, settings=settings)
    first = hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level3_agent,
                               message="Mail relay?", now=now, settings=settings)
    assert [r.vendor for r in allowed_routes(v.ticket)] == [v.beta]
    second = hand_off_to_vendor(v.ticket, vendor=v.beta, actor=v.org.level3_agent,
                                message="Or the network?", now=now, settings=settings)
    assert [m.recipient_email for m in vendor_mails("vendor_handoff")] == [
        "support@acme.example", "support@beta.example"]
    vendor_solved(second, actor=v.org.level3_agent, note="Switch replaced.", now=now,
                  settings=settings)
    assert v.ticket.status == "waiting_for_vendor"  # Acme still has it
    recall_handoff(first, actor=v.org.level3_agent, reason="Beta solved it.", now=now,
                   settings=settings)
    assert v.ticket.status == "in_progress"
    assert kinds(v.ticket).count("handed_to_vendor") == 2


def test_the_uc_beside_the_sla_warns_when_the_vendor_may_solve_it_too_late(vendor_org, now,
                                                                           settings):
    v = vendor_org
    escalate_ticket(v.ticket, to_group=v.org.level3, actor=v.org.level2_agent, reason="L3",
                    now=now, settings=settings)
    take_ticket(v.ticket, actor=v.org.level3_agent, now=now, settings=settings)
    panel = vendor_panel(v.ticket, ["hand_to_vendor"], now)
    assert {c.route.vendor.code: c.after_sla for c in panel.choices} == {"acme": True,
                                                                         "beta": False}
    hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level3_agent, message="a", now=now,
                       settings=settings)
    hand_off_to_vendor(v.ticket, vendor=v.beta, actor=v.org.level3_agent, message="b", now=now,
                       settings=settings)
    [acme, beta] = vendor_panel(v.ticket, [], now).handoffs
    assert acme.after_sla and acme.uc_resolution.due_at > acme.sla_resolution.due_at
    assert not beta.after_sla



def test_an_order_is_handed_to_a_vendor_as_an_incident_is(vendor_org, factory, now, settings):
    # "A service's tickets may be handed to external vendors": a service request's workflow
    # has the incident's vendor steps.
    from helpdesk.tickets.models import TicketType

    v = vendor_org
    order = factory.ticket(v.org.requester, v.ticket.service, ticket_type=TicketType.SERVICE_REQUEST)
    escalate_ticket(order, to_group=v.org.level2, actor=v.org.local_agent, reason="Beställning",
                    now=now, settings=settings)
    take_ticket(order, actor=v.org.level2_agent, now=now, settings=settings)
    assert [r.vendor for r in allowed_routes(order)] == [v.acme]
    handoff = hand_off_to_vendor(order, vendor=v.acme, actor=v.org.level2_agent,
                                 message="Beställ en licens.", now=now, settings=settings)
    assert order.status == "waiting_for_vendor"
    assert set(uc_clocks(order, handoff)) == {Metric.UC_RESPONSE, Metric.UC_RESOLUTION}
