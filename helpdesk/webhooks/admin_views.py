"""Administrators: the subscriptions, and the delivery log (what was sent, what failed)."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from helpdesk.core.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.web import edge
from helpdesk.webhooks.events import EVENT_LABELS, EVENTS
from helpdesk.webhooks.http_post import NO_ANSWER, no_answer_seconds
from helpdesk.webhooks.models import WebhookSubscription
from helpdesk.webhooks.sender import shortened
from helpdesk.webhooks.subscriptions import (
    add_subscription,
    all_subscriptions,
    recent_deliveries,
    set_active,
    shown_address,
)

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")
bp.before_request(edge.administrators_only)


def _page(form: dict[str, object] | None = None, errors: dict[str, list[str]] | None = None,
          added: WebhookSubscription | None = None, status: int = 200) -> Response:
    response = make_response(render_template(
        "webhooks/admin.html", subscriptions=all_subscriptions(),
        deliveries=recent_deliveries(), events=list(EVENTS), event_labels=EVENT_LABELS,
        form=form or {}, errors=errors or {}, added=added, shown_address=shown_address,
        delivery_error=delivery_error), status)
    if added is not None:
        # Its secret is on this page alone: no browser cache or proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response


def delivery_error(error: str) -> str:
    """A delivery's last error for the log: the helpdesk's own words in the reader's
    language, a receiver's or the network's as they came; short, whatever is stored."""
    seconds = no_answer_seconds(error)
    if seconds is not None:
        return gettext(NO_ANSWER, seconds=seconds)
    return shortened(error)


@bp.get("")
def index() -> Response:
    return _page()


@bp.post("")
def add() -> Response:
    chosen = request.form.getlist("events")
    try:
        subscription = add_subscription(name=request.form.get("name", ""),
                                        url=request.form.get("url", ""), events=chosen,
                                        now=edge.now())
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _page({**edge.posted(), "events": chosen}, exc.errors, status=422)
    # Shown in this answer, not flashed after a redirect: a flashed message travels in the
    # session cookie, which is signed but readable, and the secret would go with it.
    return _page(added=subscription, status=201)


@bp.post("/<int:subscription_id>/active")
def toggle(subscription_id: int) -> Response:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    set_active(subscription, request.form.get("active") == "1")
    edge.commit()
    return redirect(url_for(".index"))
