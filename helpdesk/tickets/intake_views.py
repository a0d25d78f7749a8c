"""The administrator's ticket intake page (/admin/ticket-intake): what waits, what was
rejected and why; a rejected request can be tried again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext
from werkzeug.wrappers import Response

from helpdesk.core.errors import DomainError, NotFound
from helpdesk.extensions import db
from helpdesk.tickets import intake_review
from helpdesk.tickets.intake import KEEP_PROCESSED, IntakeStatus
from helpdesk.web import edge

bp = Blueprint("intake_admin", __name__, url_prefix="/admin/ticket-intake")
bp.before_request(edge.administrators_only)


@bp.get("")
def index() -> str:
    return render_template(
        "tickets/intake_admin.html", overview=intake_review.overview(edge.now()),
        waiting=intake_review.waiting(), rejected=intake_review.rejected(),
        statuses=IntakeStatus, language=str(get_locale() or "en"),
        kept_days=KEEP_PROCESSED.days, shown=intake_review.SHOWN)


@bp.post("/<int:intake_id>/retry")
def retry(intake_id: int) -> Response:
    try:
        intake = intake_review.retry(intake_id, actor=edge.actor(), now=edge.now())
        edge.commit()
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return redirect(url_for(".index"))
    flash(gettext("Request %(id)s is waiting again; the ticket is made within seconds.",
                  id=intake.id), "success")
    return redirect(url_for(".index"))
