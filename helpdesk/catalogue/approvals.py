"""Approving or rejecting an order, from the portal or by replying to the approval mail.

Only one of the service's authorised approvers decides. Approval puts the order
in its group's queue and starts its SLA clocks from that moment; rejection ends it.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service, service_approvers
from helpdesk.config import Settings
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.sla import clocks
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.operations import move
from helpdesk.workflows.service_request import APPROVER

AWAITING = "awaiting_approval"

# The first word of a reply to the approval mail, in either language.
# No "yes"/"no": too many replies start with them without meaning a decision.
_APPROVE_WORDS = {"approve", "approved", "godkänn", "godkänner", "godkänd", "godkänt"}
_REJECT_WORDS = {"reject", "rejected", "avslå", "avslår", "avslås", "avslag"}
_WORD = re.compile(r"[^\W\d_]+")


def waiting_for(approver: User) -> list[Ticket]:
    """The orders waiting for this person's decision, oldest first."""
    return list(db.session.scalars(
        select(Ticket).join(Service, Ticket.service_id == Service.id)
        .join(service_approvers, service_approvers.c.service_id == Service.id)
        .where(service_approvers.c.user_id == approver.id, Ticket.status == AWAITING)
        .order_by(Ticket.created_at, Ticket.id)
    ))


def ticket_for_approver(approver: User, reference: str) -> Ticket:
    """An order this person may decide on; to anyone else it does not exist."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    # Only orders that were sent for approval: an approver of a service is not thereby
    # allowed to read its other tickets.
    if (ticket is None or not ticket.service.may_approve(approver)
            or not any(e.kind == "approval_requested" for e in ticket.events)):
        raise NotFound(N_("No such ticket."))
    return ticket


def _check(ticket: Ticket, approver: User) -> None:
    if not ticket.service.may_approve(approver):
        raise NotFound(N_("No such ticket."))


def approve_order(ticket: Ticket, *, approver: User, now: datetime, settings: Settings,
                  channel: str = "web", note: str = "") -> None:
    _check(ticket, approver)
    old, new = move(ticket, "approve", actor=approver, actor_kind=APPROVER, now=now,
                    settings=settings)
    # The promise to the requester runs from the approval, not from the order; the history
    # comes after, so that what listens to it (a webhook's payload) sees the clocks running.
    clocks.on_ticket_created(ticket, now)
    record(ticket, "approved", actor=approver, now=now, from_status=old, to_status=new,
           channel=channel, reason=note.strip() or None)


def reject_order(ticket: Ticket, *, approver: User, reason: str, now: datetime,
                 settings: Settings, channel: str = "web") -> None:
    _check(ticket, approver)
    old, new = move(ticket, "reject", actor=approver, actor_kind=APPROVER, now=now,
                    settings=settings, params={"reason": reason})
    ticket.closed_at = now
    record(ticket, "rejected", actor=approver, now=now, from_status=old, to_status=new,
           channel=channel, reason=reason.strip())


def decision_in(text: str) -> tuple[str | None, str]:
    """("approve" | "reject" | None, the rest) from the first line of a reply."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None, ""
    words = _WORD.findall(lines[0].lower())
    first = words[0] if words else ""
    rest = lines[0][lines[0].lower().find(first) + len(first):].strip(" :,.-–") if first else ""
    if first in _APPROVE_WORDS:
        return "approve", rest
    if first in _REJECT_WORDS:
        return "reject", rest
    return None, ""


def decide_by_mail(ticket: Ticket, *, approver: User, text: str, now: datetime,
                   settings: Settings) -> str | None:
    """An approver's reply to the approval mail; returns the decision taken, if any.

    A rejection needs a reason: the rest of the first line, else the next lines.
    """
    decision, rest = decision_in(text)
    if decision == "approve":
        approve_order(ticket, approver=approver, now=now, settings=settings, channel="email",
                      note=rest)
    elif decision == "reject":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        reason = rest or " ".join(lines[1:3])
        try:
            reject_order(ticket, approver=approver, reason=reason, now=now, settings=settings,
                         channel="email")
        except DomainError:
            return None  # no reason given: kept as a note, the order still waits
    return decision
