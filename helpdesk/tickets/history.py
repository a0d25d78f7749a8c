"""Writing the append-only history: every operation ends by calling ``record``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        at=now,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        from_group_id=from_group.id if from_group else None,
        to_group_id=to_group.id if to_group else None,
        reason=reason,
        details=details,
    )
    db.session.add(event)
    return event
