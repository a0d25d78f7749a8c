"""Agent queues and consultations between groups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts import permissions
from helpdesk.accounts.permissions import Access
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.extensions import db
from helpdesk.tickets.agent_views import page as ticket_page
from helpdesk.tickets.schemas import AnswerForm, ConsultForm
from helpdesk.tiers import operations
from helpdesk.tiers.models import Consultation, ConsultationStatus, SupportGroup
from helpdesk.tiers.queries import SORTS, STATUS_FILTERS, QueueFilter, all_groups, queue_counts, queue_page
from helpdesk.web import edge

bp = Blueprint("tiers", __name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/agent")
@edge.staff_required
def queues() -> str:
    user = edge.actor()
    mine = permissions.working_groups(user)  # a group's lead works its queue too, member or not
    working = {g.id for g in mine}
    groups = all_groups() if user.is_admin else sorted(mine, key=lambda g: (g.tier, g.name))
    consultations = db.session.scalars(
        select(Consultation).where(
            Consultation.group_id.in_([g.id for g in user.groups]),
            Consultation.status == ConsultationStatus.OPEN,
        ).order_by(Consultation.requested_at)
    ).all()
    return render_template("tiers/queues.html", groups=groups,
                           counts=queue_counts([g.id for g in groups], confidential_in=working),
                           consultations=consultations)


ALL_MY_QUEUES = "mine"


@bp.route("/agent/queues/<code>")
@edge.staff_required
def queue(code: str) -> str:
    """One group's queue, or (code ``mine``) all the user's groups' queues together."""
    user = edge.actor()
    if code == ALL_MY_QUEUES:
        group = None
        group_ids = sorted(permissions.working_group_ids(user))  # those they lead too
        member = True
    else:
        try:
            group = permissions.group_for_member(user, code)
        except NotFound:
            abort(404)
        group_ids = [group.id]
        member = user in group.members or group.lead_id == user.id
    status = request.args.get("status", "active")
    sort = request.args.get("sort", "sla")
    qfilter = QueueFilter(
        group_ids=group_ids,
        status=status if status in STATUS_FILTERS or status == "all" else "active",
        priority=_int_arg("priority"),
        tier=_int_arg("tier") if group is None else None,
        mine_only_user=user.id if request.args.get("mine") == "1" else None,
        sort=sort if sort in SORTS else "sla",
        page=_int_arg("page") or 1,
        include_confidential=member,
    )
    return render_template("tiers/queue.html", group=group, code=code,
                           tickets=queue_page(qfilter), qfilter=qfilter,
                           statuses=[*STATUS_FILTERS, "all"], sorts=SORTS)


@bp.route("/agent/tickets/<reference>/consultations", methods=["POST"])
@edge.staff_required
def consult(reference: str) -> Response | tuple[str, int]:
    try:
        ticket = permissions.ticket_for_staff(edge.actor(), reference, Access.OWNER)
    except NotFound:
        abort(404)
    except DomainError:
        abort(403)
    try:
        data = edge.load_form(ConsultForm())
        group = db.session.scalar(select(SupportGroup).where(SupportGroup.code == data["group"]))
        if group is None:
            abort(404)
        operations.consult_group(ticket, group=group, actor=edge.actor(),
                                 question=data["question"], now=edge.now())
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return ticket_page(ticket, edge.posted(), getattr(exc, "errors", None), 422)
    flash(gettext("%(group)s is consulted.", group=group.name), "success")
    return redirect(url_for("agent_tickets.show", reference=reference))


def _consultation(consultation_id: int) -> Consultation:
    try:
        return permissions.consultation_for_staff(edge.actor(), consultation_id)
    except NotFound:
        abort(404)


@bp.route("/agent/consultations/<int:consultation_id>/answer", methods=["POST"])
@edge.staff_required
def answer(consultation_id: int) -> Response | tuple[str, int]:
    consultation = _consultation(consultation_id)
    reference = consultation.ticket.reference
    if consultation.group not in edge.actor().groups:
        abort(404)
    try:
        data = edge.load_form(AnswerForm())
        operations.answer_consultation(consultation, actor=edge.actor(), answer=data["answer"],
                                       now=edge.now(), settings=edge.settings())
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return ticket_page(_consultation(consultation_id).ticket, edge.posted(),
                           getattr(exc, "errors", None), 422)
    flash(gettext("Your answer is on the ticket."), "success")
    return redirect(url_for("agent_tickets.show", reference=reference))


@bp.route("/agent/consultations/<int:consultation_id>/close", methods=["POST"])
@edge.staff_required
def close(consultation_id: int) -> Response | tuple[str, int]:
    consultation = _consultation(consultation_id)
    ticket = consultation.ticket
    if permissions.staff_access(edge.actor(), ticket) < Access.OWNER:
        abort(404)
    try:
        operations.close_consultation(consultation, actor=edge.actor(), now=edge.now())
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return ticket_page(ticket, status=409)
    flash(gettext("The consultation is closed."), "success")
    return redirect(url_for("agent_tickets.show", reference=ticket.reference))
