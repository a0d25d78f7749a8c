"""Administrators: the subscriptions, and the delivery log (what was sent, what failed)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from helpdesk.core.errors import InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tiers.queries import all_groups
from helpdesk.web import edge
from helpdesk.web.template_helpers import local_time
from helpdesk.webhooks.events import EVENT_LABELS, EVENTS
from helpdesk.webhooks.http_post import NO_ANSWER, no_answer_seconds
from helpdesk.webhooks.models import GONE, WebhookSubscription
from helpdesk.webhooks.sender import shortened
from helpdesk.webhooks.subscriptions import (
    add_subscription,
    all_subscriptions,
    delete_subscription,
    edit_subscription,
    recent_deliveries,
    replace_secret,
    set_active,
    shown_address,
)

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")
bp.before_request(edge.administrators_only)

STOPPED_NOTES = {GONE: N_("Stopped on %(time)s: the receiver answered 410 Gone.")}
CONFIRM_DELETE = N_("Tick the box to confirm that the delivery log is removed too.")


def _page(form: dict[str, object] | None = None, errors: dict[str, list[str]] | None = None,
          added: WebhookSubscription | None = None, status: int = 200) -> Response:
    response = make_response(render_template(
        "webhooks/admin.html", subscriptions=all_subscriptions(),
        deliveries=recent_deliveries(), events=list(EVENTS), event_labels=EVENT_LABELS,
        groups=all_groups(), form=form or {}, errors=errors or {}, added=added,
        shown_address=shown_address, delivery_error=delivery_error,
        stopped_note=stopped_note), status)
    if added is not None:
        # Its secret is on this page alone: no browser cache or proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response


def _subscription_page(subscription: WebhookSubscription,
                       form: dict[str, object] | None = None,
                       errors: dict[str, list[str]] | None = None, secret: str | None = None,
                       status: int = 200) -> Response:
    stored = {"name": subscription.name, "url": shown_address(subscription.url),
              "events": subscription.events, "groups": subscription.group_codes}
    response = make_response(render_template(
        "webhooks/edit.html", subscription=subscription, form=form or stored,
        errors=errors or {}, secret=secret, events=list(EVENTS), event_labels=EVENT_LABELS,
        groups=all_groups(), stopped_note=stopped_note), status)
    if secret is not None:
        response.headers["Cache-Control"] = "no-store"  # as the secret of a new subscription
    return response


def delivery_error(error: str) -> str:
    """A delivery's last error for the log: the helpdesk's own words in the reader's
    language, a receiver's or the network's as they came; short, whatever is stored."""
    seconds = no_answer_seconds(error)
    if seconds is not None:
        return gettext(NO_ANSWER, seconds=seconds)
    return shortened(error)


def stopped_note(subscription: WebhookSubscription) -> str | None:
    """Why the sender stopped a subscription, and when; None if it is started or was
    stopped by hand."""
    note = STOPPED_NOTES.get(subscription.stopped_reason or "")
    if subscription.active or note is None:
        return None
    return gettext(note, time=local_time(subscription.stopped_at))


def _chosen() -> dict[str, list[str]]:
    """The events and groups ticked on the form (each a checkbox list), as the form is
    shown again and as the services take them."""
    return {"events": request.form.getlist("events"), "groups": request.form.getlist("groups")}


def _subscription(subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


@bp.get("")
def index() -> Response:
    return _page()


@bp.post("")
def add() -> Response:
    chosen = _chosen()
    try:
        subscription = add_subscription(name=request.form.get("name", ""),
                                        url=request.form.get("url", ""), events=chosen["events"],
                                        groups=chosen["groups"], now=edge.now())
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _page({**edge.posted(), **chosen}, exc.errors, status=422)
    # Shown in this answer, not flashed after a redirect: a flashed message travels in the
    # session cookie, which is signed but readable, and the secret would go with it.
    return _page(added=subscription, status=201)


@bp.post("/<int:subscription_id>/active")
def toggle(subscription_id: int) -> Response:
    subscription = _subscription(subscription_id)
    set_active(subscription, request.form.get("active") == "1")
    edge.commit()
    return redirect(url_for(".index"))


@bp.get("/<int:subscription_id>")
def edit_form(subscription_id: int) -> Response:
    return _subscription_page(_subscription(subscription_id))


@bp.post("/<int:subscription_id>")
def edit(subscription_id: int) -> Response:
    subscription = _subscription(subscription_id)
    chosen = _chosen()
    try:
        edit_subscription(subscription, name=request.form.get("name", ""),
                          url=request.form.get("url", ""), events=chosen["events"],
                          groups=chosen["groups"])
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _subscription_page(subscription, {**edge.posted(), **chosen}, exc.errors,
                                  status=422)
    flash(gettext("Subscription %(name)s saved.", name=subscription.name), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:subscription_id>/secret")
def new_secret(subscription_id: int) -> Response:
    subscription = _subscription(subscription_id)
    secret = replace_secret(subscription)
    edge.commit()
    # In this answer alone, as a new subscription's secret is (see add).
    return _subscription_page(subscription, secret=secret)


@bp.post("/<int:subscription_id>/delete")
def delete(subscription_id: int) -> Response:
    subscription = _subscription(subscription_id)
    if request.form.get("confirm") != "1":
        return _subscription_page(subscription, errors={"confirm": [CONFIRM_DELETE]},
                                  status=422)
    name = subscription.name
    delete_subscription(subscription)
    edge.commit()
    flash(gettext("Subscription %(name)s deleted, with its delivery log.", name=name),
          "success")
    return redirect(url_for(".index"))
