"""The user's own API tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates
from werkzeug.wrappers import Response

from helpdesk.api.tokens import (
    MAX_YEARS_AHEAD,
    Scope,
    create_token,
    revoke_token,
    token_name,
    token_of,
    tokens_of,
)
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.web import edge

bp = Blueprint("api_tokens", __name__)


PAST_EXPIRY = N_("The expiry date must be in the future.")
FAR_EXPIRY = N_("Give a date at most 10 years from today.")


def _keepable_name(name: str) -> None:
    try:
        token_name(name)
    except DomainError as exc:
        raise ValidationError(exc.message) from exc


class TokenForm(Schema):
    """The form; ``today`` is the date where the helpdesk is, which the expiry date is
    counted in."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=_keepable_name,
                         error_messages={"required": N_("Give the token a name.")})
    scope = fields.String(load_default=Scope.READ.value, validate=validate.OneOf(
        [s.value for s in Scope], error=N_("Choose one of the options.")))
    expires_on = fields.Date(load_default=None, allow_none=True,
                             error_messages={"invalid": N_("Give a date as YYYY-MM-DD.")})

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today

    @validates("expires_on")
    def _within_reach(self, day: date | None, data_key: str) -> None:
        if day is None:
            return
        if day < self.today:
            raise ValidationError(PAST_EXPIRY)
        if day > _years_later(self.today, MAX_YEARS_AHEAD):
            raise ValidationError(FAR_EXPIRY)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return day.replace(year=day.year + years, day=28)


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The end of ``day`` in ``zone`` (its next midnight: a day with a DST change is 23 or
    25 hours long), in UTC."""
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)


def _page(form: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          secret: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("api/tokens.html", tokens=tokens_of(edge.actor()), now=edge.now(),
                           form=form or {}, errors=errors or {}, secret=secret), status


@bp.after_request
def _not_kept(response: Response) -> Response:
    # The page after a token is made carries its secret, shown once: no browser cache or
    # proxy may keep a copy to show again (the back button, a shared computer).
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index() -> tuple[str, int]:
    if not edge.request_is_post():
        return _page()
    now, zone = edge.now(), edge.local_zone()
    try:
        raw = {k: v for k, v in edge.posted().items() if not (k == "expires_on" and v == "")}
        form = TokenForm(today=now.astimezone(zone).date()).load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return _page(edge.posted(), {k: [str(m) for m in v] for k, v in messages.items()},
                     status=422)
    expires = _end_of_day(form["expires_on"], zone) if form["expires_on"] else None
    try:
        _token, secret = create_token(edge.actor(), name=form["name"], scope=Scope(form["scope"]),
                                      now=now, expires_at=expires)
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
