"""Writing the append-only history: every operation ends by calling ``record``.

Other domains react to what happened through ``on_recorded`` (mail notifications,
say) instead of every operation calling them: one explicit list of listeners,
called after the row is written, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpdesk.core.bulk import collecting, id_of, queue_row
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket, TicketEvent

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.tiers.models import SupportGroup


@dataclass(frozen=True, slots=True)
class Recorded:
    """One history row as a listener sees it, with the objects the operation held."""

    ticket: Ticket
    kind: str
    actor: User | None
    now: datetime
    from_group: SupportGroup | None
    to_group: SupportGroup | None
    reason: str | None
    details: dict[str, Any]
    # The workflow step, when the row records one (a reply that only adds a word has none).
    from_status: str | None = None
    to_status: str | None = None


# What the requester's view of the history leaves out: staff's own steps (notes,
# consultations, SLA mechanics, mail they never sent)...
STAFF_ONLY_KINDS = frozenset({
    "noted", "consulted", "consultation_answered", "consultation_closed", "priority_raised",
    "mail_note", "mail_bounced",
    # The exchange with a vendor: that the ticket went to one, and came back, is the
    # requester's to know; each mail, and the vendor's own case number, are not.
    "written_to_vendor", "vendor_replied", "vendor_case_number",
})
# ...and the reason of every step but these, whose reason is written to the requester (the
# resolution, why an order was refused) or by the helpdesk itself (why it was routed). An
# escalation's or a vendor handoff's reason is one colleague's word to another, often the
# very text of an internal note; a kind added later keeps its reason to staff until it is
# named here.
REASONS_FOR_REQUESTER = frozenset({
    "routed", "resolved", "cancelled", "approved", "rejected",
})


def shown_to_requester(kind: str) -> bool:
    return kind not in STAFF_ONLY_KINDS and not kind.startswith("sla_")


def changes_what_requester_sees(kind: str) -> bool:
    """A step in the requester's history, or one that changes what they read of the ticket
    without a line of its own there (a priority the SLA raised)."""
    return shown_to_requester(kind) or kind == "priority_raised"


Listener = Callable[[Recorded], None]
_listeners: dict[Listener, frozenset[str]] = {}


def on_recorded(listener: Listener, *, kinds: Iterable[str]) -> None:
    """Call ``listener`` after every history row of these kinds (registering twice is once).

    ``record`` is on every hot path (the SLA sweep writes thousands of clock rows), so
    the kind is looked at first and nothing is built for rows nobody listens to. An
    exception in a listener fails the operation, as it should: the change and what it
    causes are one transaction.
    """
    _listeners[listener] = frozenset(kinds)


def record(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    from_group: SupportGroup | None = None,
    to_group: SupportGroup | None = None,
    reason: str | None = None,
    **details: Any,
) -> None:
    if changes_what_requester_sees(kind):
        ticket.public_version += 1
        # Never back: a ticket made later from a request is changed as of its making,
        # though its first steps are recorded as of the acceptance.
        ticket.public_updated_at = max(ticket.public_updated_at, now)
    row = {
        "at": now,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "from_group_id": from_group.id if from_group else None,
        "to_group_id": to_group.id if to_group else None,
        "reason": reason,
        "details": details,
    }
    # Inside a bulk block the row is queued by ids (promised ones, for new objects).
    if collecting():
        queue_row(TicketEvent.__table__, {"ticket_id": id_of(ticket),
                                          "actor_id": id_of(actor) if actor else None, **row})
    else:
        db.session.add(TicketEvent(ticket=ticket, actor=actor, **row))
    for listener, kinds in _listeners.items():
        if kind in kinds:
            listener(Recorded(ticket, kind, actor, now, from_group, to_group, reason, details,
                              from_status, to_status))
