"""Administrators: the subscriptions, and the delivery log (what was sent, what failed)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from helpdesk.core.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.web import edge
from helpdesk.webhooks.events import EVENT_LABELS, EVENTS
from helpdesk.webhooks.models import WebhookSubscription
from helpdesk.webhooks.subscriptions import (
    add_subscription,
    all_subscriptions,
    recent_deliveries,
    set_active,
)

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")
bp.before_request(edge.administrators_only)


def _page(form: dict[str, object] | None = None, errors: dict[str, list[str]] | None = None,
          status: int = 200) -> tuple[str, int]:
    return render_template("webhooks/admin.html", subscriptions=all_subscriptions(),
                           deliveries=recent_deliveries(), events=list(EVENTS),
                           event_labels=EVENT_LABELS, form=form or {}, errors=errors or {}), status


@bp.get("")
def index() -> tuple[str, int]:
    return _page()


@bp.post("")
def add() -> Response | tuple[str, int]:
    chosen = request.form.getlist("events")
    try:
        subscription = add_subscription(name=request.form.get("name", ""),
                                        url=request.form.get("url", ""), events=chosen,
                                        now=edge.now())
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _page({**edge.posted(), "events": chosen}, exc.errors, 422)
    flash(gettext("Subscription %(name)s added. Its signing secret: %(secret)s",
                  name=subscription.name, secret=subscription.secret), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:subscription_id>/active")
def toggle(subscription_id: int) -> Response:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    set_active(subscription, request.form.get("active") == "1")
    edge.commit()
    return redirect(url_for(".index"))
