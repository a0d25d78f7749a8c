"""The agent's ticket page: everything about a ticket, and the actions allowed now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts import permissions
from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import Access
from helpdesk.core.errors import DatabaseBusy, DomainError, InvalidInput, NotFound, StaleTicket
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.mail.authors import note_senders
from helpdesk.sla.presentation import clock_views
from helpdesk.tickets import operations as ops
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.schemas import ActionForm, MessageForm
from helpdesk.tiers import operations as tier_ops
from helpdesk.tiers.models import SupportGroup
from helpdesk.vendors.presentation import VENDOR_EVENTS, vendor_panel
from helpdesk.web import edge
from helpdesk.workflows.definitions import AGENT

bp = Blueprint("agent_tickets", __name__)


def _ticket(reference: str, at_least: Access = Access.CONSULTED) -> Ticket:
    try:
        return permissions.ticket_for_staff(edge.actor(), reference, at_least)
    except NotFound:
        abort(404)
    except DomainError:
        # The user may see the ticket (a consulted group) but not do this to it.
        abort(403)


def _group(code: str | None) -> SupportGroup:
    group = db.session.scalar(select(SupportGroup).where(SupportGroup.code == code))
    if group is None:
        raise InvalidInput({"to_group": [N_("Choose a group.")]})
    return group


# Taking, and handing to a vendor, need membership of the group that works the ticket: its
# lead works it too (Access.ASSIGNED), but may not take it without being a member.
MEMBERS_ONLY = frozenset({"take", "hand_to_vendor"})


def agent_events(ticket: Ticket, user: User, access: Access) -> list[str]:
    """The workflow's events this staff member may fire on the ticket now (page and API)."""
    if access < Access.ADMIN:
        return []
    events = ops.available_events(ticket, AGENT, edge.now(), edge.settings())
    if ticket.assigned_group_id not in {group.id for group in user.groups}:
        events = [e for e in events if e not in MEMBERS_ONLY]
    return events


def page(ticket: Ticket, form: dict[str, str] | None = None,
         errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    user = edge.actor()
    access = permissions.staff_access(user, ticket)
    events = agent_events(ticket, user, access)
    # External vendors have a section of their own on the page.
    vendor = vendor_panel(ticket, events, edge.now())
    events = [e for e in events if e not in VENDOR_EVENTS]
    consult_groups = db.session.scalars(
        select(SupportGroup).where(SupportGroup.id != ticket.assigned_group_id)
        .order_by(SupportGroup.tier, SupportGroup.name)
    ).all()
    return render_template(
        "tickets/agent_ticket.html", ticket=ticket, access=access, Access=Access, events=events,
        escalation_targets=tier_ops.escalation_targets(ticket) if "escalate" in events else [],
        consult_groups=consult_groups, my_group_ids={g.id for g in user.groups},
        clock_views=clock_views(ticket, edge.now()), vendor=vendor,
        # Who wrote each message that came by mail from no user: a stranger, or a vendor.
        senders={**note_senders(ticket), **vendor.senders},
        form=form or {}, errors=errors or {},
    ), status


@bp.route("/agent/tickets/<reference>")
@edge.staff_required
def show(reference: str) -> tuple[str, int]:
    return page(_ticket(reference))


def _take(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.take_ticket(t, expected_version=d["version"], **kw)


def _assign(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    assignee = db.session.get(User, d["assignee"] or 0)
    if assignee is None:
        raise InvalidInput({"assignee": [N_("Choose an agent.")]})
    ops.assign_ticket(t, assignee=assignee, expected_version=d["version"], **kw)


def _ask(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.ask_requester(t, question=d["message"], expected_version=d["version"], **kw)


def _escalate(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    tier_ops.escalate_ticket(t, to_group=_group(d["to_group"]), reason=d["reason"],
                             expected_version=d["version"], **kw)


def _return(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    tier_ops.return_to_level_1(t, reason=d["reason"], expected_version=d["version"], **kw)


def _resolve(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.resolve_ticket(t, note=d["note"], expected_version=d["version"], **kw)


def _reopen(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.reopen_ticket(t, actor_kind=AGENT, message=d["message"], expected_version=d["version"],
                      **kw)


def _cancel(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.cancel_ticket(t, actor_kind=AGENT, reason=d["reason"], expected_version=d["version"], **kw)


ACTIONS: dict[str, Callable[..., None]] = {
    "take": _take,
    "assign": _assign,
    "ask_requester": _ask,
    "escalate": _escalate,
    "return_to_level_1": _return,
    "resolve": _resolve,
    "reopen": _reopen,
    "cancel": _cancel,
}


def _refused(reference: str, exc: DomainError) -> Response | tuple[str, int]:
    db.session.rollback()
    ticket = _ticket(reference)
    if isinstance(exc, InvalidInput):
        # Action forms are small and many: say what is wrong at the top of the page.
        for messages in exc.errors.values():
            for message in messages:
                flash(gettext(message), "error")
        return page(ticket, edge.posted(), exc.errors, exc.status)
    flash(edge.error_text(exc), "error")
    if isinstance(exc, DatabaseBusy):
        return edge.too_busy(page(ticket, edge.posted(), None))
    return page(ticket, edge.posted(), None, 409)


@bp.route("/agent/tickets/<reference>/actions/<event>", methods=["POST"])
@edge.staff_required
def act(reference: str, event: str) -> Response | tuple[str, int]:
    action = ACTIONS.get(event)
    if action is None:
        abort(404)
    ticket = _ticket(reference)
    try:
        data = edge.load_form(ActionForm())
        # A stale page is told first: after reloading, the agent sees what changed.
        ops.check_version(ticket, data["version"])
        if permissions.staff_access(edge.actor(), ticket) < Access.ADMIN:
            abort(403)
        edge.hold_write_lock()
        action(ticket, data, actor=edge.actor(), now=edge.now(), settings=edge.settings())
        edge.commit()
    except DomainError as exc:
        return _refused(reference, exc)
    flash(gettext("Done: %(action)s.", action=gettext(edge.event_label(event))), "success")
    if permissions.staff_access(edge.actor(), ticket) == Access.NONE:
        # Escalated out of the actor's groups: the ticket is no longer theirs to see.
        return redirect(url_for("tiers.queues"))
    return redirect(url_for(".show", reference=reference))


@bp.route("/agent/tickets/<reference>/messages", methods=["POST"])
@edge.staff_required
def add_message(reference: str) -> Response | tuple[str, int]:
    ticket = _ticket(reference)
    try:
        data = edge.load_form(MessageForm())
        internal = data["internal"] or permissions.staff_access(edge.actor(), ticket) < Access.OWNER
        if not internal:
            ops.check_version(ticket, data["version"])
        uploads = edge.uploads()
        edge.hold_write_lock()
        ops.add_reply(ticket, actor=edge.actor(), body=data["body"], internal=internal,
                      now=edge.now(), settings=edge.settings(), uploads=uploads)
        edge.commit()
    except (StaleTicket, DomainError) as exc:
        return _refused(reference, exc)
    flash(gettext("Internal note added.") if internal else gettext("Reply sent to the requester."),
          "success")
    return redirect(url_for(".show", reference=reference))
