"""What administrators see of the ticket intake: what waits, what was rejected, and a retry.

The sender of a request follows it through the API; the administrator needs the whole
picture: whether the drain keeps up (an old waiting request means no scheduler or intake
worker is running), and which requests did not become tickets, and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.accounts.models import User
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.intake import LATE, IntakeRetry, IntakeStatus, TicketIntake

log = logging.getLogger(__name__)

# A request waiting this long means no drain is running.
STALLED_AFTER = LATE
SHOWN = 100


@dataclass(frozen=True)
class IntakeOverview:
    counts: dict[IntakeStatus, int]
    oldest_waiting: datetime | None
    stalled: bool


def overview(now: datetime) -> IntakeOverview:
    """How many requests wait, were created and were rejected (of those still kept)."""
    counts = dict.fromkeys(IntakeStatus, 0)
    for status, count in db.session.execute(
            select(TicketIntake.status, func.count(TicketIntake.id)).group_by(TicketIntake.status)):
        counts[status] = count
    oldest = db.session.scalar(select(func.min(TicketIntake.accepted_at))
                               .where(TicketIntake.status == IntakeStatus.PENDING))
    return IntakeOverview(counts, oldest, oldest is not None and now - oldest > STALLED_AFTER)


def _listed(status: IntakeStatus, *order: ColumnElement[Any]) -> list[TicketIntake]:
    return list(db.session.scalars(
        select(TicketIntake).where(TicketIntake.status == status)
        .options(joinedload(TicketIntake.requester),
                 selectinload(TicketIntake.retries).joinedload(IntakeRetry.by))
        .order_by(*order).limit(SHOWN)))


def waiting() -> list[TicketIntake]:
    """The oldest waiting requests first: the next the drain takes."""
    return _listed(IntakeStatus.PENDING, TicketIntake.id.asc())


def rejected() -> list[TicketIntake]:
    """The latest rejections first."""
    return _listed(IntakeStatus.REJECTED, TicketIntake.processed_at.desc(), TicketIntake.id.desc())


def retry(intake_id: int, *, actor: User, now: datetime) -> TicketIntake:
    """Give a rejected request back to the drain (after the cause was mended: the service
    reopened, a fault fixed). Its ticket still counts from when the request was accepted,
    as the requester has waited since then. The retry is kept on the request, with the
    rejection it gave up. The caller commits."""
    intake = db.session.get(TicketIntake, intake_id)
    if intake is None:
        raise NotFound(N_("There is no such ticket request."))
    if intake.status != IntakeStatus.REJECTED:
        raise DomainError(N_("Only a rejected request can be tried again."))
    intake.retries.append(IntakeRetry(at=now, by=actor, reason=intake.reason))
    intake.status = IntakeStatus.PENDING
    intake.reason = None
    intake.processed_at = None
    log.info("ticket request %s given back to the drain by %s", intake.id, actor.email)
    return intake
