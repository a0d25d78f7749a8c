"""Moving tickets between tiers, and borrowing competence across them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.sla import clocks
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.operations import add_reply, move, touch
from helpdesk.tiers.models import Consultation, ConsultationStatus, SupportGroup
from helpdesk.workflows.definitions import AGENT, SYSTEM


def next_tier_group(ticket: Ticket) -> SupportGroup | None:
    """Where functional escalation sends a ticket: the service's next level, if it has one."""
    targets = escalation_targets(ticket)
    next_tier = ticket.assigned_group.tier + 1
    return next((g for g in targets if g.tier == next_tier), None)


def escalation_targets(ticket: Ticket) -> list[SupportGroup]:
    """Groups above the ticket's tier, the service's own route first."""
    tier = ticket.assigned_group.tier
    route = [ticket.service.level2_group, *ticket.service.level3_groups]
    preferred = [g for g in route if g is not None and g.tier > tier]
    others = db.session.scalars(
        select(SupportGroup).where(SupportGroup.tier > tier).order_by(SupportGroup.tier,
                                                                      SupportGroup.name)
    ).all()
    return preferred + [g for g in others if g not in preferred]


def escalate_ticket(ticket: Ticket, *, to_group: SupportGroup, actor: User | None, reason: str,
                    now: datetime, settings: Settings, expected_version: int | None = None,
                    reason_params: dict[str, str] | None = None) -> None:
    """Functional escalation: the ticket moves to a group at a higher tier, unassigned.

    ``actor`` None is the helpdesk itself (an OLA breach escalates the ticket).
    """
    kind = AGENT if actor is not None else SYSTEM
    old, new = move(ticket, "escalate", actor=actor, actor_kind=kind, now=now, settings=settings,
                    expected_version=expected_version,
                    params={"reason": reason, "target_tier": to_group.tier})
    from_group = ticket.assigned_group
    ticket.assigned_group = to_group
    ticket.assignee = None
    clocks.on_group_changed(ticket, to_group, now)
    record(ticket, "escalated", actor=actor, now=now, from_status=old, to_status=new,
           from_group=from_group, to_group=to_group, reason=reason.strip(),
           from_tier=from_group.tier, to_tier=to_group.tier,
           **({"reason_params": reason_params} if reason_params is not None else {}))


def return_to_level_1(ticket: Ticket, *, actor: User, reason: str, now: datetime,
                      settings: Settings, expected_version: int | None = None) -> None:
    """De-escalation: back to the level-1 group that keeps the customer."""
    old, new = move(ticket, "return_to_level_1", actor=actor, actor_kind=AGENT, now=now,
                    settings=settings, expected_version=expected_version,
                    params={"reason": reason})
    from_group = ticket.assigned_group
    ticket.assigned_group = ticket.owner_group
    ticket.assignee = None
    clocks.on_group_changed(ticket, ticket.owner_group, now)
    record(ticket, "returned_to_level_1", actor=actor, now=now, from_status=old, to_status=new,
           from_group=from_group, to_group=ticket.owner_group, reason=reason.strip(),
           from_tier=from_group.tier, to_tier=ticket.owner_group.tier)


def consult_group(ticket: Ticket, *, group: SupportGroup, actor: User, question: str,
                  now: datetime) -> Consultation:
    if not question.strip():
        raise DomainError(N_("Write what you want to ask."))
    if group.id in (ticket.assigned_group_id,):
        raise DomainError(N_("The ticket is already with %(group)s."), group=group.name)
    if any(c.group_id == group.id and c.status != ConsultationStatus.CLOSED
           for c in ticket.consultations):
        raise DomainError(N_("%(group)s is already consulted on this ticket."), group=group.name)
    consultation = Consultation(
        ticket=ticket, group=group, status=ConsultationStatus.OPEN, question=question.strip(),
        requested_by=actor, requested_at=now,
    )
    db.session.add(consultation)
    touch(ticket, actor, now)
    record(ticket, "consulted", actor=actor, now=now, to_group=group, reason=question.strip())
    db.session.flush()
    return consultation


def answer_consultation(consultation: Consultation, *, actor: User, answer: str, now: datetime,
                        settings: Settings) -> None:
    if consultation.status != ConsultationStatus.OPEN:
        raise DomainError(N_("This consultation is no longer open."))
    if not answer.strip():
        raise DomainError(N_("Write an answer."))
    consultation.status = ConsultationStatus.ANSWERED
    consultation.answer = answer.strip()
    consultation.answered_by = actor
    consultation.answered_at = now
    # The answer is also an internal note, so the ticket's workers read it in place.
    add_reply(consultation.ticket, actor=actor, body=answer, internal=True, now=now,
              settings=settings, consultation_id=consultation.id)
    record(consultation.ticket, "consultation_answered", actor=actor, now=now,
           from_group=consultation.group, reason=answer.strip())


def close_consultation(consultation: Consultation, *, actor: User, now: datetime) -> None:
    if consultation.status == ConsultationStatus.CLOSED:
        raise DomainError(N_("This consultation is already closed."))
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = now
    touch(consultation.ticket, actor, now)
    record(consultation.ticket, "consultation_closed", actor=actor, now=now,
           from_group=consultation.group)
