"""Reading queues: the tickets a group works, filtered and sorted, and their counts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.workflows.definitions import QUEUED, RESOLVED, SLA_PAUSED, TERMINAL
from helpdesk.workflows.engine import WORKFLOWS

PAGE_SIZE = 50


def _states(tag: str) -> set[str]:
    return {s for w in WORKFLOWS.values() for s in w.states_tagged(tag)}


def _all_states() -> set[str]:
    return {s.name for w in WORKFLOWS.values() for s in w.states}


# Named views of a queue, as an agent thinks of them.
STATUS_FILTERS: dict[str, set[str]] = {
    "active": _all_states() - _states(RESOLVED) - _states(TERMINAL),
    "unassigned": _states(QUEUED),
    "waiting": _states(SLA_PAUSED),
    "resolved": _states(RESOLVED),
    "closed": _states(TERMINAL),
}
SORTS = ("sla", "priority", "newest", "oldest")


@dataclass(frozen=True)
class QueueFilter:
    group_ids: Sequence[int]
    status: str = "active"
    priority: int | None = None
    tier: int | None = None
    mine_only_user: int | None = None
    sort: str = "sla"
    page: int = 1
    include_confidential: bool = True


def queue_query(f: QueueFilter) -> Select[tuple[Ticket]]:
    query = select(Ticket).where(Ticket.assigned_group_id.in_(f.group_ids))
    if f.status in STATUS_FILTERS:
        query = query.where(Ticket.status.in_(sorted(STATUS_FILTERS[f.status])))
    if f.priority:
        query = query.where(Ticket.priority == f.priority)
    if f.tier:
        query = query.where(
            Ticket.assigned_group_id.in_(select(SupportGroup.id).where(SupportGroup.tier == f.tier))
        )
    if f.mine_only_user:
        query = query.where(Ticket.assignee_id == f.mine_only_user)
    if not f.include_confidential:
        query = query.where(Ticket.confidential.is_(False))
    order: dict[str, tuple[Any, ...]] = {
        # Nearest SLA due first; tickets without a running clock after them, by priority.
        "sla": (Ticket.sla_due_at.asc().nulls_last(), Ticket.priority.asc()),
        "priority": (Ticket.priority.asc(), Ticket.created_at.asc()),
        "newest": (Ticket.created_at.desc(),),
        "oldest": (Ticket.created_at.asc(),),
    }
    return query.order_by(*order[f.sort if f.sort in SORTS else "sla"], Ticket.id.desc())


def queue_page(f: QueueFilter) -> list[Ticket]:
    # The page shows each ticket's service and assignee: load them with the page, not per row.
    query = queue_query(f).options(joinedload(Ticket.service), joinedload(Ticket.assignee),
                                    joinedload(Ticket.assigned_group))
    return list(db.session.scalars(  # type: ignore[arg-type]
        query.limit(PAGE_SIZE).offset((max(f.page, 1) - 1) * PAGE_SIZE)
    ).unique().all())


def all_groups() -> list[SupportGroup]:
    """Every support group, by tier and name, as the administrators' pages list them."""
    return list(db.session.scalars(select(SupportGroup).order_by(SupportGroup.tier,
                                                                 SupportGroup.name)))


def queue_counts(group_ids: Sequence[int], *,
                 confidential_in: Collection[int]) -> dict[int, dict[str, int]]:
    """Per group: active and unassigned counts, in one grouped query. Confidential tickets
    count only in the groups of ``confidential_in`` (those the reader works in), as the
    queue page lists them: an administrator's counts of another group leave them out."""
    active = sorted(STATUS_FILTERS["active"])
    queued = sorted(STATUS_FILTERS["unassigned"])
    rows = db.session.execute(
        select(Ticket.assigned_group_id, Ticket.status, func.count())
        .where(Ticket.assigned_group_id.in_(group_ids), Ticket.status.in_(active),
               or_(Ticket.confidential.is_(False),
                   Ticket.assigned_group_id.in_(sorted(confidential_in))))
        .group_by(Ticket.assigned_group_id, Ticket.status)
    ).all()
    counts = {gid: {"active": 0, "unassigned": 0} for gid in group_ids}
    for group_id, status, n in rows:
        counts[group_id]["active"] += n
        if status in queued:
            counts[group_id]["unassigned"] += n
    return counts
