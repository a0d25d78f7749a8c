"""The portal: the service catalogue and the form that opens a ticket."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.catalogue.models import ORDERABLE, Service
from helpdesk.core.errors import DomainError, InvalidInput
from helpdesk.extensions import db
from helpdesk.tickets.models import TicketType
from helpdesk.tickets.operations import create_ticket
from helpdesk.tickets.schemas import NewTicketForm
from helpdesk.web import edge
from helpdesk.web.template_helpers import localized

bp = Blueprint("catalogue", __name__)


@bp.route("/")
@login_required
def home() -> Response:
    if current_user.is_staff:
        return redirect(url_for("tiers.queues"))
    return redirect(url_for("catalogue.index"))


@bp.route("/portal")
@login_required
def index() -> str:
    services = db.session.scalars(
        select(Service).where(Service.lifecycle.in_(ORDERABLE))
        .order_by(Service.category, Service.name)
    ).all()
    grouped = [(category, list(items)) for category, items in
               groupby(services, key=lambda s: s.category)]
    return render_template("catalogue/index.html", grouped=grouped)


def _orderable(code: str) -> Service:
    service = db.session.scalar(select(Service).where(Service.code == code))
    if service is None or not service.orderable:
        abort(404)
    return service


@bp.route("/portal/services/<code>", methods=["GET", "POST"])
@login_required
def new_ticket(code: str) -> str | Response | tuple[str, int]:
    service = _orderable(code)
    if not edge.request_is_post():
        return render_template("catalogue/new_ticket.html", service=service, form={}, errors={})
    try:
        data = edge.load_form(NewTicketForm())
        ticket = create_ticket(
            requester=edge.actor(), service=service, subject=data["subject"],
            description=data["description"], impact=data["impact"], urgency=data["urgency"],
            ticket_type=TicketType(data["type"]), confidential=data["confidential"],
            uploads=edge.uploads(), now=edge.now(), settings=edge.settings(),
        )
        edge.commit()
    except InvalidInput as exc:
        return render_template("catalogue/new_ticket.html", service=service,
                               form=edge.posted(), errors=exc.errors), 422
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return render_template("catalogue/new_ticket.html", service=service,
                               form=edge.posted(), errors={}), 422
    flash(gettext("Thank you. Your ticket %(reference)s is registered and is in the queue of "
                  "%(group)s. You can follow it here.", reference=ticket.reference,
                  group=localized(ticket.assigned_group, "name")), "success")
    return redirect(url_for("portal_tickets.show", reference=ticket.reference))
