"""The user's own API tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.wrappers import Response

from helpdesk.api.tokens import Scope, create_token, revoke_token, token_of, tokens_of
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.schemas import storable
from helpdesk.web import edge

bp = Blueprint("api_tokens", __name__)


class TokenForm(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=[
        validate.Length(min=1, max=100, error=N_("Give the token a name.")),
        validate.Regexp(r"[\s\S]*\S", error=N_("Give the token a name.")), storable],
        error_messages={"required": N_("Give the token a name.")})
    scope = fields.String(load_default=Scope.READ.value, validate=validate.OneOf(
        [s.value for s in Scope], error=N_("Choose one of the options.")))
    expires_on = fields.Date(load_default=None, allow_none=True,
                             error_messages={"invalid": N_("Give a date as YYYY-MM-DD.")},
                             # the token expires at the end of that day, which must be a date
                             validate=validate.Range(max=date.max - timedelta(days=1), error=N_(
                                 "Give a date before the year 10000.")))


def _page(form: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          secret: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("api/tokens.html", tokens=tokens_of(edge.actor()), now=edge.now(),
                           form=form or {}, errors=errors or {}, secret=secret), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index() -> tuple[str, int]:
    if not edge.request_is_post():
        return _page()
    try:
        raw = {k: v for k, v in edge.posted().items() if not (k == "expires_on" and v == "")}
        form = TokenForm().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return _page(edge.posted(), {k: [str(m) for m in v] for k, v in messages.items()},
                     status=422)
    expires = (datetime.combine(form["expires_on"], time.min, UTC) + timedelta(days=1)
               if form["expires_on"] else None)
    try:
        _token, secret = create_token(edge.actor(), name=form["name"], scope=Scope(form["scope"]),
                                      now=edge.now(), expires_at=expires)
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        return _page(edge.posted(), {"expires_on" if "expiry" in exc.message else "name":
                                     [exc.message]}, status=422)
    flash(gettext("Token created. Copy it now: it is not shown again."), "success")
    return _page(secret=secret, status=201)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    try:
        token = token_of(edge.actor(), token_id)
    except NotFound:
        abort(404)
    revoke_token(token, now=edge.now())
    edge.commit()
    flash(gettext("The token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for(".index"))
