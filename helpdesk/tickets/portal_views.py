"""The requester's side: my tickets, a ticket's public story, reply, confirm, cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import Schema
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts import permissions
from helpdesk.core.errors import DatabaseBusy, DomainError, InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.tickets.history import REASONS_FOR_REQUESTER, shown_to_requester
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.operations import (
    available_events,
    cancel_ticket,
    confirm_resolution,
    requester_reply,
)
from helpdesk.tickets.schemas import CancelForm, RequesterMessageForm
from helpdesk.web import edge
from helpdesk.workflows.definitions import REQUESTER

bp = Blueprint("portal_tickets", __name__)


def _ticket(reference: str) -> Ticket:
    try:
        return permissions.ticket_for_requester(edge.actor(), reference)
    except NotFound:
        abort(404)


@bp.route("/portal/tickets")
@login_required
def index() -> str:
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.requester_id == edge.actor().id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(200)
    ).all()
    return render_template("tickets/portal_list.html", tickets=tickets)


def _page(ticket: Ticket, form: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          status: int = 200) -> tuple[str, int]:
    events = available_events(ticket, REQUESTER, edge.now(), edge.settings())
    messages = [m for m in ticket.messages if not m.internal]
    history = [e for e in ticket.events if shown_to_requester(e.kind)]
    return render_template("tickets/portal_ticket.html", ticket=ticket, events=events,
                           messages=messages, history=history, form=form or {},
                           errors=errors or {}, reasons_shown=REASONS_FOR_REQUESTER), status


@bp.route("/portal/tickets/<reference>")
@login_required
def show(reference: str) -> tuple[str, int]:
    return _page(_ticket(reference))


def _requester_action(reference: str, schema: Schema | None,
                      action: Callable[[Ticket, dict[str, Any]], object],
                      done: str) -> Response | tuple[str, int]:
    """Load the form, run one operation, commit; on refusal show the page with the input kept."""
    ticket = _ticket(reference)
    try:
        data = edge.load_form(schema) if schema else {}
        edge.hold_write_lock()  # waits, as the agent's page does, while mail is filed
        action(ticket, data)
        edge.commit()
    except InvalidInput as exc:
        return _page(ticket, edge.posted(), exc.errors, exc.status)
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        if isinstance(exc, DatabaseBusy):
            return edge.too_busy(_page(_ticket(reference), edge.posted(), None))
        return _page(_ticket(reference), edge.posted(), None, 409)
    flash(done, "success")
    return redirect(url_for(".show", reference=reference))


@bp.route("/portal/tickets/<reference>/reply", methods=["POST"])
@login_required
def reply(reference: str) -> Response | tuple[str, int]:
    return _requester_action(
        reference, RequesterMessageForm(),
        lambda ticket, data: requester_reply(
            ticket, actor=edge.actor(), body=data["body"], now=edge.now(),
            settings=edge.settings(), uploads=edge.uploads()),
        gettext("Your message is added to the ticket."))


@bp.route("/portal/tickets/<reference>/confirm", methods=["POST"])
@login_required
def confirm(reference: str) -> Response | tuple[str, int]:
    return _requester_action(
        reference, None,
        lambda ticket, _data: confirm_resolution(ticket, actor=edge.actor(), now=edge.now(),
                                                 settings=edge.settings()),
        gettext("Thank you for confirming. The ticket is closed."))


@bp.route("/portal/tickets/<reference>/cancel", methods=["POST"])
@login_required
def cancel(reference: str) -> Response | tuple[str, int]:
    return _requester_action(
        reference, CancelForm(),
        lambda ticket, data: cancel_ticket(
            ticket, actor=edge.actor(), actor_kind=REQUESTER, reason=data["reason"],
            now=edge.now(), settings=edge.settings()),
        gettext("The ticket is cancelled."))


@bp.route("/tickets/<reference>/attachments/<int:attachment_id>")
@login_required
def attachment(reference: str, attachment_id: int) -> Response:
    try:
        found = permissions.attachment_for(edge.actor(), reference, attachment_id)
    except NotFound:
        abort(404)
    return edge.download(found)
