"""The administrator's quarantine (/admin/mail/quarantine): see, download, release."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from helpdesk.core.errors import DomainError, NotFound
from helpdesk.extensions import db
from helpdesk.mail import quarantine, reasons
from helpdesk.web import edge

bp = Blueprint("mail_quarantine", __name__, url_prefix="/admin/mail/quarantine")


bp.before_request(edge.administrators_only)


def _mail(inbound_id: int) -> quarantine.InboundMail:
    try:
        return quarantine.get(inbound_id)
    except NotFound:
        abort(404)


def _reason(stored: str) -> str:
    """Why a mail is kept, in the reader's language: it is stored in English (mail.reasons)."""
    return reasons.in_words(stored, gettext)


def _translate(text: str) -> str:
    """For a refused release: its message, or the stored reason or problem it quotes (a
    Label), in the reader's language."""
    if not text:
        return text  # gettext("") would be the catalogue's header
    shown = _reason(text)
    return shown if shown != text else gettext(text)


@bp.route("")
def index() -> str:
    return render_template("mail/quarantine.html", mails=quarantine.quarantined(), reason=_reason)


@bp.route("/<int:inbound_id>/raw")
def download(inbound_id: int) -> Response:
    inbound = _mail(inbound_id)
    path = quarantine.raw_path(inbound, edge.settings())
    if not path.is_file():
        abort(404)
    # As a file to save, never shown inline: its content is whatever a stranger sent.
    return send_file(path, mimetype="application/octet-stream", as_attachment=True,
                     download_name=f"mail-{inbound.id}.eml")


@bp.route("/<int:inbound_id>/release", methods=["POST"])
def release(inbound_id: int) -> Response:
    inbound = _mail(inbound_id)
    try:
        quarantine.release(inbound, actor=edge.actor(), now=edge.now(), settings=edge.settings())
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.render(_translate), "error")
        return redirect(url_for(".index"))
    if inbound.ticket is not None:
        flash(gettext("Released: the mail is now on ticket %(reference)s.",
                      reference=inbound.ticket.reference), "success")
    else:
        flash(gettext("Released: %(reason)s", reason=inbound.reason), "success")
    return redirect(url_for(".index"))
