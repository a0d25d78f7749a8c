"""The administrator's outbox (/admin/outbox): every mail the helpdesk sends or means to send.

With no SMTP host configured (the embedded default) this is where the mail is read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from helpdesk.mail import outbox_listing
from helpdesk.web import edge

bp = Blueprint("mail_outbox", __name__, url_prefix="/admin/outbox")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"filters": outbox_listing.FILTERS, "filter_labels": outbox_listing.FILTER_LABELS,
            "state_labels": outbox_listing.STATE_LABELS, "kind_labels": outbox_listing.KIND_LABELS}


bp.before_request(edge.administrators_only)


@bp.route("")
def index() -> str:
    show = request.args.get("show", "all")
    show = show if show in outbox_listing.FILTERS else "all"
    number = request.args.get("page", "")
    page = max(int(number), 1) if number.isdigit() else 1
    rows, more = outbox_listing.page(show, page, viewer=edge.actor(), now=edge.now())
    return render_template("mail/outbox.html", rows=rows, show=show, page=page, more=more,
                           counts=outbox_listing.counts(),
                           sending=bool(edge.settings().mail.smtp_host))


@bp.route("/<int:message_id>")
def message(message_id: int) -> str:
    row = outbox_listing.one(message_id, viewer=edge.actor(), now=edge.now())
    if row is None:
        abort(404)
    hidden_text = gettext("(hidden: the ticket is confidential)")
    return render_template(
        "mail/outbox_message.html", row=row, hidden_text=hidden_text,
        headers=outbox_listing.headers(row.message, edge.settings().mail, hidden=row.hidden,
                                       hidden_text=hidden_text),
        html="" if row.hidden else outbox_listing.safe_html(row.message.html_body))
