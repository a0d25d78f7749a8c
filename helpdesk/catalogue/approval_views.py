"""The approver's pages: the orders waiting for them, and approving or rejecting one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from helpdesk.catalogue import approvals
from helpdesk.catalogue.views import bp
from helpdesk.core.errors import DomainError, InvalidInput, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.schemas import _Form, choice, text
from helpdesk.web import edge
from helpdesk.web.template_helpers import localized


class DecisionForm(_Form):
    decision = choice(["approve", "reject"], required=True)
    reason = text(2000, required=False)


def _ticket(reference: str) -> Ticket:
    try:
        return approvals.ticket_for_approver(edge.actor(), reference)
    except NotFound:
        abort(404)


@bp.route("/portal/approvals")
@login_required
def approvals_index() -> str:
    return render_template("catalogue/approvals.html",
                           tickets=approvals.waiting_for(edge.actor()))


def _page(ticket: Ticket, form: dict[str, str], errors: dict[str, list[str]],
          status: int = 200) -> tuple[str, int]:
    return render_template("catalogue/approval.html", ticket=ticket, form=form, errors=errors,
                           waiting=ticket.status == approvals.AWAITING), status


@bp.route("/portal/approvals/<reference>", methods=["GET", "POST"])
@login_required
def approval(reference: str) -> tuple[str, int] | Response:
    ticket = _ticket(reference)
    if not edge.request_is_post():
        return _page(ticket, {}, {})
    try:
        data = edge.load_form(DecisionForm())
        if data["decision"] == "approve":
            approvals.approve_order(ticket, approver=edge.actor(), now=edge.now(),
                                    settings=edge.settings(), note=data["reason"])
        else:
            if not data["reason"].strip():
                raise InvalidInput({"reason": [N_("Give a reason.")]})
            approvals.reject_order(ticket, approver=edge.actor(), reason=data["reason"],
                                   now=edge.now(), settings=edge.settings())
        edge.commit()
    except InvalidInput as exc:
        return _page(ticket, edge.posted(), exc.errors, 422)
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return _page(_ticket(reference), edge.posted(), {}, 422)
    if data["decision"] == "approve":
        flash(gettext("You approved %(reference)s; it is now in the queue of %(group)s.",
                      reference=ticket.reference, group=localized(ticket.assigned_group, "name")),
              "success")
    else:
        flash(gettext("You rejected %(reference)s; the requester can read why.",
                      reference=ticket.reference), "success")
    return redirect(url_for("catalogue.approvals_index"))
