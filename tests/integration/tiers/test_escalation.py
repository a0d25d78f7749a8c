"""Moving a ticket between levels, and borrowing another group's competence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.accounts.permissions import Access, staff_access
from helpdesk.core.errors import DomainError, TransitionRefused
from helpdesk.extensions import db
from helpdesk.tickets.operations import take_ticket
from helpdesk.tiers.models import ConsultationStatus
from helpdesk.tiers.operations import (
    answer_consultation,
    close_consultation,
    consult_group,
    escalate_ticket,
    escalation_targets,
    return_to_level_1,
)
from tests.support import fast_password_hashing

LATER = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def ticket(org, factory, settings, now):
    """Taken by the requester's local helpdesk (level 1)."""
    ticket = factory.ticket(org.requester, org.service, now)
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    return ticket


def only_event(ticket, kind):
    found = [e for e in ticket.events if e.kind == kind]
    assert len(found) == 1, [e.kind for e in ticket.events]
    return found[0]


def snapshot(ticket) -> dict:
    db.session.flush()
    return {"status": ticket.status, "assignee": ticket.assignee_id,
            "group": ticket.assigned_group_id, "owner": ticket.owner_group_id,
            "version": ticket.version, "events": len(ticket.events)}


def test_escalate_from_level_1_to_2_to_3(ticket, org, settings, now):
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern svarar inte",
                    now=now + LATER, settings=settings)
    assert (ticket.assigned_group, ticket.owner_group) == (org.level2, org.local)
    assert (ticket.status, ticket.assignee, ticket.tier) == ("open", None, 2)
    first = only_event(ticket, "escalated")
    assert (first.actor, first.at, first.from_status, first.to_status) == (
        org.local_agent, now + LATER, "in_progress", "open")
    assert (first.from_group_id, first.to_group_id, first.reason) == (
        org.local.id, org.level2.id, "Servern svarar inte")
    assert first.details == {"from_tier": 1, "to_tier": 2}

    take_ticket(ticket, actor=org.level2_agent, now=now + 2 * LATER, settings=settings)
    escalate_ticket(ticket, to_group=org.level3, actor=org.level2_agent, reason="Databasfel",
                    now=now + 3 * LATER, settings=settings)
    assert (ticket.assigned_group, ticket.owner_group) == (org.level3, org.local)
    assert (ticket.status, ticket.assignee, ticket.tier) == ("open", None, 3)
    second = [e for e in ticket.events if e.kind == "escalated"][-1]
    assert (second.from_group_id, second.to_group_id, second.actor) == (
        org.level2.id, org.level3.id, org.level2_agent)
    assert second.details == {"from_tier": 2, "to_tier": 3}


def test_a_ticket_can_skip_level_2(ticket, org, settings, now):
    escalate_ticket(ticket, to_group=org.level3, actor=org.local_agent, reason="Känt fel i DNS",
                    now=now, settings=settings)
    assert ticket.assigned_group == org.level3


@pytest.mark.parametrize("reason", ["", "  \n"])
def test_escalate_without_a_reason_is_refused(ticket, org, settings, now, reason):
    before = snapshot(ticket)
    with pytest.raises(TransitionRefused) as refused:
        escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason=reason,
                        now=now + LATER, settings=settings)
    assert str(refused.value) == "Give a reason."
    assert snapshot(ticket) == before


def test_escalate_to_a_lower_or_the_same_tier_is_refused(ticket, org, factory, settings, now):
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=now, settings=settings)
    before = snapshot(ticket)
    for target in (org.desk, factory.group(2)):
        with pytest.raises(TransitionRefused) as refused:
            escalate_ticket(ticket, to_group=target, actor=org.level2_agent, reason="Fel kö",
                            now=now + LATER, settings=settings)
        assert str(refused.value) == "A ticket can only be escalated to a group at a higher level."
        assert snapshot(ticket) == before


def test_nothing_is_above_level_3(ticket, org, settings, now):
    escalate_ticket(ticket, to_group=org.level3, actor=org.local_agent, reason="DNS",
                    now=now, settings=settings)
    before = snapshot(ticket)
    with pytest.raises(TransitionRefused) as refused:
        escalate_ticket(ticket, to_group=org.other3, actor=org.level3_agent, reason="Annan grupp",
                        now=now + LATER, settings=settings)
    assert str(refused.value) == "The ticket is already at the highest level."
    assert snapshot(ticket) == before
    assert escalation_targets(ticket) == []


def test_escalation_targets_offer_the_services_own_route_first(ticket, org, factory):
    extra2 = factory.group(2)
    targets = escalation_targets(ticket)
    assert targets[:2] == [org.level2, org.level3]
    assert set(targets) == {org.level2, org.level3, org.other3, extra2}


def test_return_to_level_1_goes_back_to_the_owner_group(ticket, org, settings, now):
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=now, settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=now, settings=settings)
    return_to_level_1(ticket, actor=org.level2_agent, reason="Användarens egen dator",
                      now=now + LATER, settings=settings)
    assert (ticket.assigned_group, ticket.owner_group) == (org.local, org.local)
    assert (ticket.status, ticket.assignee) == ("open", None)
    event = only_event(ticket, "returned_to_level_1")
    assert (event.actor, event.at, event.from_status, event.to_status) == (
        org.level2_agent, now + LATER, "in_progress", "open")
    assert (event.from_group_id, event.to_group_id, event.reason) == (
        org.level2.id, org.local.id, "Användarens egen dator")
    assert event.details == {"from_tier": 2, "to_tier": 1}


def test_return_to_level_1_at_level_1_is_refused(ticket, org, settings, now):
    before = snapshot(ticket)
    with pytest.raises(TransitionRefused) as refused:
        return_to_level_1(ticket, actor=org.local_agent, reason="Hit", now=now, settings=settings)
    assert str(refused.value) == "The ticket is already at level 1."
    assert snapshot(ticket) == before


# -- consultations ---------------------------------------------------------------------------------

def test_a_consultation_is_asked_answered_and_closed(ticket, org, settings, now):
    expert = org.level3_agent
    assert staff_access(expert, ticket) == Access.NONE

    consultation = consult_group(ticket, group=org.level3, actor=org.local_agent,
                                 question="Är DNS-servern nere?", now=now + LATER)
    assert consultation.status == ConsultationStatus.OPEN
    assert staff_access(expert, ticket) == Access.CONSULTED
    assert (ticket.assigned_group, ticket.assignee) == (org.local, org.local_agent), "not moved"
    asked = only_event(ticket, "consulted")
    assert (asked.actor, asked.at, asked.to_group_id, asked.reason) == (
        org.local_agent, now + LATER, org.level3.id, "Är DNS-servern nere?")

    answer_consultation(consultation, actor=expert, answer="Nej, men cachen var full.",
                        now=now + 2 * LATER, settings=settings)
    assert consultation.status == ConsultationStatus.ANSWERED
    assert (consultation.answer, consultation.answered_by) == ("Nej, men cachen var full.", expert)
    note = ticket.messages[-1]
    assert (note.body, note.internal, note.author, note.consultation_id) == (
        "Nej, men cachen var full.", True, expert, consultation.id)
    answered = only_event(ticket, "consultation_answered")
    assert (answered.actor, answered.from_group_id, answered.at) == (
        expert, org.level3.id, now + 2 * LATER)
    assert staff_access(expert, ticket) == Access.CONSULTED, "may still read until closed"

    close_consultation(consultation, actor=org.local_agent, now=now + 3 * LATER)
    assert (consultation.status, consultation.closed_at) == (
        ConsultationStatus.CLOSED, now + 3 * LATER)
    closed = only_event(ticket, "consultation_closed")
    assert (closed.actor, closed.from_group_id) == (org.local_agent, org.level3.id)
    assert staff_access(expert, ticket) == Access.NONE


def test_consulting_a_group_that_is_already_consulted_is_refused(ticket, org, settings, now):
    first = consult_group(ticket, group=org.level3, actor=org.local_agent, question="DNS?", now=now)
    with pytest.raises(DomainError) as refused:
        consult_group(ticket, group=org.level3, actor=org.local_agent, question="Igen?", now=now)
    assert str(refused.value) == f"{org.level3.name} is already consulted on this ticket."

    answer_consultation(first, actor=org.level3_agent, answer="Ja.", now=now, settings=settings)
    with pytest.raises(DomainError, match="already consulted"):
        consult_group(ticket, group=org.level3, actor=org.local_agent, question="Igen?", now=now)
    assert len(ticket.consultations) == 1

    close_consultation(first, actor=org.local_agent, now=now)
    again = consult_group(ticket, group=org.level3, actor=org.local_agent, question="Ny fråga",
                          now=now + LATER)
    assert again.status == ConsultationStatus.OPEN


def test_consulting_the_group_that_works_the_ticket_is_refused(ticket, org, now):
    with pytest.raises(DomainError) as refused:
        consult_group(ticket, group=org.local, actor=org.local_agent, question="Hjälp?", now=now)
    assert str(refused.value) == f"The ticket is already with {org.local.name}."


def test_a_consultation_needs_a_question_and_an_answer(ticket, org, settings, now):
    with pytest.raises(DomainError, match="Write what you want to ask"):
        consult_group(ticket, group=org.level3, actor=org.local_agent, question="  ", now=now)
    consultation = consult_group(ticket, group=org.level3, actor=org.local_agent,
                                 question="DNS?", now=now)
    with pytest.raises(DomainError, match="Write an answer"):
        answer_consultation(consultation, actor=org.level3_agent, answer=" ", now=now,
                            settings=settings)
    assert consultation.status == ConsultationStatus.OPEN


def test_a_consultation_is_answered_once_and_closed_once(ticket, org, settings, now):
    consultation = consult_group(ticket, group=org.level3, actor=org.local_agent,
                                 question="DNS?", now=now)
    answer_consultation(consultation, actor=org.level3_agent, answer="Ja.", now=now,
                        settings=settings)
    with pytest.raises(DomainError, match="no longer open"):
        answer_consultation(consultation, actor=org.level3_agent, answer="Nej.", now=now,
                            settings=settings)
    close_consultation(consultation, actor=org.local_agent, now=now)
    with pytest.raises(DomainError, match="already closed"):
        close_consultation(consultation, actor=org.local_agent, now=now)
