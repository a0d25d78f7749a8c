"""The rest of the API: the caller, the catalogue, groups with queue counts, SLA clocks."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import select

from helpdesk.accounts.permissions import Access, working_group_ids, working_groups
from helpdesk.api import schemas
from helpdesk.api.auth import api_token, api_user
from helpdesk.api.blueprint import bp
from helpdesk.api.http import answer
from helpdesk.api.problems import ApiProblem
from helpdesk.api.tickets import visible_ticket
from helpdesk.catalogue.models import Service
from helpdesk.catalogue.queries import ON_PORTAL
from helpdesk.extensions import db
from helpdesk.sla.presentation import clock_views
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.queries import queue_counts
from helpdesk.web import edge

# Made once: a schema keeps nothing between dumps, and making one copies every field.
ME_OUT = schemas.MeOut()
SERVICES_OUT = schemas.ServiceOut(many=True)
GROUPS_OUT = schemas.GroupOut(many=True)
CLOCKS_OUT = schemas.ClockOut(many=True)


@bp.get("/me")
def me() -> Response:
    user = api_user()
    return answer(ME_OUT, {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
        "groups": sorted(g.code for g in working_groups(user)),
        "token_scope": api_token().scope.value})


@bp.get("/services")
def services() -> Response:
    """Staff: the whole catalogue. Requesters: what the portal shows them, so not the
    services still being proposed."""
    query = select(Service).order_by(Service.code)
    if not api_user().is_staff:
        query = query.where(Service.lifecycle.in_(sorted(ON_PORTAL)))
    return answer(SERVICES_OUT, db.session.scalars(query).all())


@bp.get("/groups")
def groups() -> Response:
    """Staff: their own groups (an administrator every group) with their queue counts."""
    user = api_user()
    if not user.is_staff:
        raise ApiProblem(403, "Only staff see the groups' queues.")
    query = select(SupportGroup).order_by(SupportGroup.tier, SupportGroup.code)
    mine = working_group_ids(user)
    if not user.is_admin:
        query = query.where(SupportGroup.id.in_(sorted(mine)))
    rows = db.session.scalars(query).all()
    counts = queue_counts([g.id for g in rows], confidential_in=mine)
    out = [{"code": g.code, "name": g.name, "name_en": g.name_en, "tier": g.tier,
            "kind": g.kind.value, **counts[g.id]} for g in rows]
    return answer(GROUPS_OUT, out)


def _seconds(us: int) -> float:
    return us / 1_000_000


@bp.get("/tickets/<reference>/sla")
def ticket_sla(reference: str) -> Response:
    """The ticket's clocks with the lines that add up to them (staff: as on the ticket page)."""
    ticket, access = visible_ticket(reference)
    if access == Access.NONE:
        raise ApiProblem(403, "The SLA clocks are shown to staff only.")
    out: list[dict[str, Any]] = [{
        "metric": view.clock.metric.value,
        "group": view.clock.group.code if view.clock.group else None,
        "vendor": view.clock.handoff.vendor.code if view.clock.handoff else None,
        "calendar": view.clock.calendar.name,
        "status": view.clock.status.value,
        "state": view.clock.state,
        "target_seconds": _seconds(view.clock.target_us),
        "counted_seconds": _seconds(view.counted_us),
        "remaining_seconds": view.remaining.total_seconds(),
        "started_at": view.clock.started_at,
        "due_at": view.clock.due_at,
        "warn_at": view.clock.warn_at,
        "warned_at": view.clock.warned_at,
        "breached_at": view.clock.breached_at,
        "stopped_at": view.clock.stopped_at,
        "lines": [{"kind": line.kind, "start": line.start, "end": line.end,
                   "business_seconds": _seconds(line.business_us), "reason": line.reason}
                  for line in view.lines],
    } for view in clock_views(ticket, edge.now())]
    return answer(CLOCKS_OUT, out, ticket=ticket)
