"""Vendor actions on the agent's ticket page, and the administrators' vendor register."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts import permissions
from helpdesk.accounts.permissions import Access
from helpdesk.core.errors import DomainError, InvalidInput, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets import agent_views
from helpdesk.tickets.models import Ticket
from helpdesk.vendors import operations as ops
from helpdesk.vendors.models import ServiceVendor, Vendor, VendorAgreement, VendorHandoff
from helpdesk.vendors.schemas import (
    HandoffForm,
    RecallForm,
    VendorAnswerForm,
    VendorMessageForm,
)
from helpdesk.web import edge

bp = Blueprint("vendors", __name__)
admin_bp = Blueprint("vendor_admin", __name__)
admin_bp.before_request(edge.administrators_only)


def _ticket(reference: str) -> Ticket:
    """The ticket, if the actor may see it (else 404, as for any ticket they may not see)."""
    try:
        return permissions.ticket_for_staff(edge.actor(), reference, Access.CONSULTED)
    except NotFound:
        abort(404)


def _handoff(ticket: Ticket, handoff_id: int) -> VendorHandoff:
    handoff = db.session.get(VendorHandoff, handoff_id)
    if handoff is None or handoff.ticket_id != ticket.id:
        abort(404)
    return handoff


def _act(reference: str, schema: Any, at_least: Access, done: str,
         action: Callable[[Ticket, dict[str, Any]], None]) -> Response | tuple[str, int]:
    """Load the ticket (404 if not the actor's to see), check the form, act, commit once."""
    ticket = _ticket(reference)
    if permissions.staff_access(edge.actor(), ticket) < at_least:
        abort(403)
    try:
        data = edge.load_form(schema)
        action(ticket, data)
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        ticket = _ticket(reference)
        if isinstance(exc, InvalidInput):
            for messages in exc.errors.values():
                for message in messages:
                    flash(gettext(message), "error")
            return agent_views.page(ticket, edge.posted(), exc.errors, 422)
        flash(edge.error_text(exc), "error")
        return agent_views.page(ticket, edge.posted(), None, 409)
    flash(gettext(done), "success")
    return redirect(url_for("agent_tickets.show", reference=reference))


@bp.route("/agent/tickets/<reference>/vendor/handoffs", methods=["POST"])
@edge.staff_required
def hand_over(reference: str) -> Response | tuple[str, int]:
    def action(ticket: Ticket, data: dict[str, Any]) -> None:
        vendor = db.session.scalar(select(Vendor).where(Vendor.code == data["vendor"]))
        if vendor is None:
            raise InvalidInput({"vendor": [N_("Choose one of the options.")]})
        ops.hand_off_to_vendor(ticket, vendor=vendor, actor=edge.actor(), message=data["message"],
                               now=edge.now(), settings=edge.settings(),
                               expected_version=data["version"])

    return _act(reference, HandoffForm(), Access.ASSIGNED, N_("The ticket was handed to the vendor."),
                action)


@bp.route("/agent/tickets/<reference>/vendor/handoffs/<int:handoff_id>/answer", methods=["POST"])
@edge.staff_required
def answer(reference: str, handoff_id: int) -> Response | tuple[str, int]:
    def action(ticket: Ticket, data: dict[str, Any]) -> None:
        handoff = _handoff(ticket, handoff_id)
        ops.record_vendor_reply(handoff, body=data["body"], actor=edge.actor(), now=edge.now(),
                                settings=edge.settings(), sender=edge.actor().email,
                                case_number=data["case_number"].strip() or None,
                                solved=data["solved"], expected_version=data["version"])

    return _act(reference, VendorAnswerForm(), Access.ADMIN, N_("The vendor's answer was noted."),
                action)


@bp.route("/agent/tickets/<reference>/vendor/handoffs/<int:handoff_id>/write", methods=["POST"])
@edge.staff_required
def write(reference: str, handoff_id: int) -> Response | tuple[str, int]:
    def action(ticket: Ticket, data: dict[str, Any]) -> None:
        ops.write_to_vendor(_handoff(ticket, handoff_id), actor=edge.actor(), body=data["body"],
                            now=edge.now(), settings=edge.settings(),
                            expected_version=data["version"])

    return _act(reference, VendorMessageForm(), Access.ADMIN, N_("Sent to the vendor."), action)


@bp.route("/agent/tickets/<reference>/vendor/handoffs/<int:handoff_id>/recall", methods=["POST"])
@edge.staff_required
def recall(reference: str, handoff_id: int) -> Response | tuple[str, int]:
    def action(ticket: Ticket, data: dict[str, Any]) -> None:
        ops.recall_handoff(_handoff(ticket, handoff_id), actor=edge.actor(), reason=data["reason"],
                           now=edge.now(), settings=edge.settings(),
                           expected_version=data["version"])

    return _act(reference, RecallForm(), Access.ADMIN, N_("The handoff was recalled."), action)


@admin_bp.route("/admin/vendors")
def register() -> str:
    """Vendors, their contracts and contacts, and the agreements register (read-only: the
    organisation file is where they are changed)."""
    vendors = db.session.scalars(select(Vendor).order_by(Vendor.name)).all()
    agreements = db.session.scalars(select(VendorAgreement).order_by(VendorAgreement.code)).all()
    routes: dict[int, list[ServiceVendor]] = {}
    for route in db.session.scalars(select(ServiceVendor).order_by(ServiceVendor.id)).all():
        routes.setdefault(route.vendor_id, []).append(route)
    return render_template("vendors/register.html", vendors=vendors, agreements=agreements,
                           service_routes=routes)
