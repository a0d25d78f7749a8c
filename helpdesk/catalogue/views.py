"""The portal: the service catalogue, each service's page and the form that opens a ticket."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.catalogue import queries
from helpdesk.catalogue.forms import load_answers
from helpdesk.catalogue.models import Service
from helpdesk.core.errors import DatabaseBusy, DomainError, InvalidInput
from helpdesk.extensions import db
from helpdesk.mail.notifications import promises
from helpdesk.tickets.models import Ticket, TicketType
from helpdesk.tickets.operations import create_ticket
from helpdesk.tickets.schemas import NewTicketForm
from helpdesk.vendors.queries import agreements_for
from helpdesk.web import edge
from helpdesk.web.template_helpers import local_time, localized

bp = Blueprint("catalogue", __name__)


@bp.app_context_processor
def _catalogue_helpers() -> dict[str, Any]:
    # The ticket pages (agent and portal) show a ticket's form answers through this.
    return {"request_form_answers": queries.answers_of, "is_approver": queries.is_approver}


@bp.route("/")
@login_required
def home() -> Response:
    if current_user.is_staff:
        return redirect(url_for("tiers.queues"))
    return redirect(url_for("catalogue.index"))


@bp.route("/portal")
@login_required
def index() -> str:
    search = request.args.get("q", "").strip()[:100]
    services = queries.orderable_services(search)
    grouped = [(category, list(items)) for category, items in
               groupby(services, key=lambda s: s.category)]
    return render_template("catalogue/index.html", grouped=grouped, search=search,
                           found=len(services))


def _shown(code: str) -> Service:
    service = queries.service_for_portal(code)
    if service is None:
        abort(404)
    return service


def _page(service: Service, form: dict[str, str], errors: dict[str, list[str]],
          status: int = 200) -> tuple[str, int]:
    return render_template(
        "catalogue/new_ticket.html", service=service, form=form, errors=errors,
        maintenance=queries.upcoming_maintenance(service, edge.now()),
        may_order=service.may_order(edge.actor()),
        # The vendor agreements of the central register that apply to the reader's department.
        agreements=agreements_for(service.code, org_unit_id=edge.actor().org_unit_id,
                                  on=edge.today()),
    ), status


def _posted_ticket(service: Service) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ticket's fields and, for an order, the request form's answers; every bad field of
    both is named at once."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    try:
        data = edge.load_form(NewTicketForm())
    except InvalidInput as exc:
        errors.update(exc.errors)
    answers: list[dict[str, Any]] = []
    # The request form belongs to orders; a fault report is not asked to fill it in.
    if edge.posted().get("type") == TicketType.SERVICE_REQUEST.value:
        try:
            answers = load_answers(service.request_form, edge.posted())
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return data, answers


@bp.route("/portal/services/<code>", methods=["GET", "POST"])
@login_required
def new_ticket(code: str) -> str | Response | tuple[str, int]:
    service = _shown(code)
    if not edge.request_is_post():
        return _page(service, {}, {})
    if not service.orderable:
        abort(404)
    try:
        data, answers = _posted_ticket(service)
        ticket = create_ticket(
            requester=edge.actor(), service=service, subject=data["subject"],
            description=data["description"], impact=data["impact"], urgency=data["urgency"],
            ticket_type=TicketType(data["type"]), confidential=data["confidential"],
            uploads=edge.uploads(), now=edge.now(), settings=edge.settings(),
            form_answers=answers,
        )
        edge.commit()
    except InvalidInput as exc:
        return _page(service, edge.posted(), exc.errors, exc.status)
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        if isinstance(exc, DatabaseBusy):
            return edge.too_busy(_page(service, edge.posted(), {}))
        return _page(service, edge.posted(), {}, 422)
    if ticket.status == "awaiting_approval":
        flash(gettext("Thank you. Your order %(reference)s is registered and waits for approval; "
                      "it goes to %(group)s when it is approved.", reference=ticket.reference,
                      group=localized(ticket.assigned_group, "name")), "success")
    else:
        # One message, so that a screen reader announces it as one.
        flash(gettext("Thank you. Your ticket %(reference)s is registered and is in the queue of "
                      "%(group)s. You can follow it here.", reference=ticket.reference,
                      group=localized(ticket.assigned_group, "name")) + " " + _promised(ticket),
              "success")
    return redirect(url_for("portal_tickets.show", reference=ticket.reference))


def _promised(ticket: Ticket) -> str:
    """What the service's SLA promises the new ticket, in the words of the acknowledgement
    mail that tickets from other channels get (the portal's get none)."""
    return " ".join(promise.sentence(local_time) for promise in promises(ticket)) or gettext(
        "This service has no agreed response times, so we give no date; we handle your ticket "
        "as soon as we can, in order of priority.")


# The approvers' and the administrators' pages register on this blueprint too.
from helpdesk.catalogue import admin_views, approval_views  # noqa: E402, F401
