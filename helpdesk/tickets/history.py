"""Writing the append-only history: every operation ends by calling ``record``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpdesk.core.bulk import queue_row
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket, TicketEvent

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.tiers.models import SupportGroup


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
    # Inside a bulk block the row is queued by ids, which a new ticket does not have yet.
    known = ticket.id is not None and (actor is None or actor.id is not None)
    if known and queue_row(TicketEvent.__table__,
                           {"ticket_id": ticket.id, "actor_id": actor.id if actor else None, **row}):
        return
    db.session.add(TicketEvent(ticket=ticket, actor=actor, **row))
