"""Logging in and out, and choosing a language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User, check_decoy_password
from helpdesk.extensions import db, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user and user.active else None


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths, so the login form cannot bounce people elsewhere.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.home"))
    email = request.form.get("email", "").strip().lower()
    if request.method == "POST":
        user = db.session.scalar(select(User).where(User.email == email))
        password = request.form.get("password", "")
        if user is not None and user.active and user.password_hash:
            accepted = user.check_password(password)
        else:
            # As long as a wrong password takes: the time must not tell whether the address
            # has an account (or one without a password, or a deactivated one).
            accepted = check_decoy_password(password)
        if accepted and user is not None:
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("catalogue.home"))
        flash(gettext("Wrong e-mail address or password."), "error")
        return render_template("accounts/login.html", email=email), 401
    return render_template("accounts/login.html", email=email)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
def language() -> Response:
    choice = request.form.get("locale")
    if choice in ("sv", "en"):
        session["locale"] = choice
        if current_user.is_authenticated:
            current_user.locale = choice
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("catalogue.home"))
