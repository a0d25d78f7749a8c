"""Who may see and do what: the one place access is decided.

Rules:
- A requester sees only their own tickets (through the portal).
- An agent sees the tickets of their groups (owner or assigned group) and those
  their group is consulted on while the consultation is not closed.
- A confidential ticket is seen only by its current groups (owner, assigned,
  consulted now) and its requester; not even an administrator outside them.
- An administrator sees every other ticket, and alone may change calendars, SLA
  policies and OLAs (``require_admin``).
- Everyone else gets "not found", so nobody learns that a reference exists.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, false, or_, select

from helpdesk.accounts.models import User
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.models import Attachment, Ticket
from helpdesk.tiers.models import Consultation, ConsultationStatus, SupportGroup


class Access(enum.IntEnum):
    """How far a staff member may go with a ticket; each level includes the ones below."""

    NONE = 0
    CONSULTED = 1  # read, add internal notes, answer the consultation
    OWNER = 2  # the group that keeps the customer: also public replies and consultations
    ADMIN = 3  # the administrator: also the workflow's actions (not taking it: not a member)
    ASSIGNED = 4  # the group that works it now: everything


def working_groups(user: User) -> list[SupportGroup]:
    """The groups whose queues the user works: those they are a member of or lead."""
    led = db.session.scalars(select(SupportGroup).where(SupportGroup.lead_id == user.id)).all()
    return [*user.groups, *(g for g in led if g not in user.groups)]


def working_group_ids(user: User) -> set[int]:
    return {g.id for g in working_groups(user)}


def staff_access(user: User, ticket: Ticket) -> Access:
    if not user.is_authenticated or not user.is_staff:
        return Access.NONE
    groups = working_group_ids(user)
    levels = [Access.NONE]
    if ticket.assigned_group_id in groups:
        levels.append(Access.ASSIGNED)
    if user.is_admin and not ticket.confidential:
        levels.append(Access.ADMIN)
    if ticket.owner_group_id in groups:
        levels.append(Access.OWNER)
    if any(c.group_id in groups and c.status != ConsultationStatus.CLOSED
           for c in ticket.consultations):
        levels.append(Access.CONSULTED)
    return max(levels)


def is_requester_of(user: User, ticket: Ticket) -> bool:
    return bool(user.is_authenticated) and ticket.requester_id == user.id


def _by_reference(reference: str) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    if ticket is None:
        raise NotFound(N_("No such ticket."))
    return ticket


def ticket_for_requester(user: User, reference: str) -> Ticket:
    ticket = _by_reference(reference)
    if not is_requester_of(user, ticket):
        raise NotFound(N_("No such ticket."))
    return ticket


def ticket_for_staff(user: User, reference: str, at_least: Access = Access.CONSULTED) -> Ticket:
    ticket = _by_reference(reference)
    access = staff_access(user, ticket)
    if access == Access.NONE:
        raise NotFound(N_("No such ticket."))
    if access < at_least:
        raise DomainError(N_("Only the group that works this ticket now can do this."))
    return ticket


def consultation_for_staff(user: User, consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or staff_access(user, consultation.ticket) == Access.NONE:
        raise NotFound(N_("No such consultation."))
    return consultation


def attachment_for(user: User, reference: str, attachment_id: int) -> Attachment:
    """An attachment its ticket lets this user see; internal files only for staff."""
    ticket = _by_reference(reference)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        raise NotFound(N_("No such attachment."))
    if staff_access(user, ticket) != Access.NONE:
        return attachment
    if is_requester_of(user, ticket) and not attachment.internal:
        return attachment
    raise NotFound(N_("No such attachment."))


def group_for_member(user: User, code: str) -> SupportGroup:
    """A queue the user may look at: their own groups; an administrator any."""
    group = db.session.scalar(select(SupportGroup).where(SupportGroup.code == code))
    if group is None or not user.is_staff:
        raise NotFound(N_("No such queue."))
    if group.id not in working_group_ids(user) and not user.is_admin:
        raise NotFound(N_("No such queue."))
    return group


def require_admin(user: User) -> None:
    """The administration pages: administrators only; anyone else finds nothing there."""
    if not (user.is_authenticated and user.is_admin):
        raise NotFound(N_("No such page."))


def visible_tickets(user: User) -> ColumnElement[bool]:
    """The rules above as a WHERE clause, for lists: what ``staff_access`` or
    ``is_requester_of`` lets this user see."""
    return or_(Ticket.requester_id == user.id, visible_as_staff(user))


def visible_as_staff(user: User) -> ColumnElement[bool]:
    """What ``staff_access`` lets this user see, as a WHERE clause (nothing for a requester)."""
    if not user.is_staff:
        return false()
    groups = sorted(working_group_ids(user))
    consulted = select(Consultation.ticket_id).where(
        Consultation.group_id.in_(groups), Consultation.status != ConsultationStatus.CLOSED)
    clause = or_(Ticket.assigned_group_id.in_(groups), Ticket.owner_group_id.in_(groups),
                 Ticket.id.in_(consulted))
    if user.is_admin:
        clause = or_(clause, Ticket.confidential.is_(False))
    return clause
