"""The administrator's screens for calendars, SLA policies and OLAs (/admin/sla)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.core.errors import DomainError, InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.core.labels import EFFECT_LABELS, STATUS_LABELS
from helpdesk.extensions import db
from helpdesk.org.schemas import WEEKDAYS
from helpdesk.sla import admin, admin_forms
from helpdesk.sla.models import Calendar, OlaPolicy, SlaPolicy
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.queries import all_groups
from helpdesk.web import edge
from helpdesk.web.template_helpers import business_duration, localized

bp = Blueprint("sla_admin", __name__, url_prefix="/admin/sla")

Page = str | tuple[str, int] | Response
Coded = TypeVar("Coded", Calendar, SlaPolicy, SupportGroup)


WEEKDAY_LABELS = {"mon": N_("Monday"), "tue": N_("Tuesday"), "wed": N_("Wednesday"),
                  "thu": N_("Thursday"), "fri": N_("Friday"), "sat": N_("Saturday"),
                  "sun": N_("Sunday")}
HOLIDAY_LABELS = {
    "public": N_("Public holidays"),
    "de_facto": N_("Midsummer Eve, Christmas Eve and New Year's Eve"),
    "bank": N_("Bank holidays (also the days before some holidays)"),
    "optional": N_("Optional holidays, such as Easter Eve and bridge days"),
}


def _options(table: dict[str, str], values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, gettext(table[value])) for value in values]


def week_in_words(calendar: Calendar) -> list[str]:
    """"Monday–Friday 08:00–17:00": the opening hours, equal days next to each other joined."""
    runs: list[list[Any]] = []  # [first day, last day, hours]
    for number in range(len(WEEKDAYS)):
        spans = calendar.weekly_hours.get(str(number))
        if not spans:
            continue
        hours = ", ".join(f"{start}–{end}" for start, end in spans)
        if runs and runs[-1][2] == hours and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number, hours])

    def name(number: int) -> str:
        return gettext(WEEKDAY_LABELS[WEEKDAYS[number]])

    return [f"{name(first)}–{name(last)} {hours}" if last != first else f"{name(first)} {hours}"
            for first, last, hours in runs]


def target_text(minutes: int) -> str:
    return business_duration(minutes * 60_000_000)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "WEEKDAYS": WEEKDAYS, "WEEKDAY_LABELS": WEEKDAY_LABELS, "HOLIDAY_LABELS": HOLIDAY_LABELS,
        "PRIORITIES": admin_forms.PRIORITIES,
        "holiday_options": _options(HOLIDAY_LABELS, admin_forms.HOLIDAY_CATEGORIES),
        "sla_effect_options": _options(EFFECT_LABELS, admin_forms.SLA_EFFECTS),
        "ola_effect_options": _options(EFFECT_LABELS, admin_forms.OLA_EFFECTS),
        "week_in_words": week_in_words, "target_text": target_text,
    }


bp.before_request(edge.administrators_only)


def _by_code(model: type[Coded], code: str) -> Coded:
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        abort(404)
    return found


def _calendars() -> list[Calendar]:
    return list(db.session.scalars(select(Calendar).order_by(Calendar.name)))


@bp.route("")
def index() -> str:
    groups = all_groups()
    olas = {ola.group_id: ola for ola in db.session.scalars(select(OlaPolicy))}
    policies = db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.name)).all()
    return render_template("sla/admin/index.html", calendars=_calendars(), policies=policies,
                           groups=groups, olas=olas)


def _saved(message: str, moved: int) -> Response:
    flash(message, "success")
    if moved:
        flash(gettext("Clocks recomputed from now on (the time already counted is kept): "
                      "%(count)s.", count=moved), "success")
    return redirect(url_for(".index"))


@bp.route("/calendars/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/calendars/<code>/edit", methods=["GET", "POST"])
def calendar(code: str | None) -> Page:
    row = _by_code(Calendar, code) if code else None

    def page(form: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Page:
        return render_template("sla/admin/calendar.html", calendar=row, form=form,
                               errors=errors), status

    if not edge.request_is_post():
        return page(admin_forms.calendar_values(row), {})
    try:
        data = edge.load_form(admin_forms.CalendarForm(exclude=("code",) if row else ()))
        moved = admin.save_calendar(data, calendar=row, now=edge.now())
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return page(edge.posted(), exc.errors, 422)
    return _saved(gettext("The calendar %(name)s is saved.", name=data["name"]), moved)


@bp.route("/policies/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/policies/<code>/edit", methods=["GET", "POST"])
def policy(code: str | None) -> Page:
    row = _by_code(SlaPolicy, code) if code else None

    def page(form: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Page:
        return render_template("sla/admin/policy.html", policy=row, form=form, errors=errors,
                               calendars=_calendars(),
                               states=_options(STATUS_LABELS, admin_forms.pausable_states())), status

    if not edge.request_is_post():
        return page(admin_forms.policy_values(row), {})
    try:
        data = edge.load_form(admin_forms.SlaPolicyForm(exclude=("code",) if row else ()))
        moved = admin.save_sla_policy(data, policy=row, now=edge.now())
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return page(edge.posted(), exc.errors, 422)
    return _saved(gettext("The SLA policy %(name)s is saved.", name=data["name"]), moved)


@bp.route("/calendars/<code>/delete", methods=["POST"])
def delete_calendar(code: str) -> Response:
    calendar = _by_code(Calendar, code)
    return _deleted(lambda: admin.delete_calendar(calendar), url_for(".calendar", code=code),
                    gettext("The calendar %(name)s is deleted.", name=calendar.name))


@bp.route("/policies/<code>/delete", methods=["POST"])
def delete_policy(code: str) -> Response:
    policy = _by_code(SlaPolicy, code)
    return _deleted(lambda: admin.delete_sla_policy(policy), url_for(".policy", code=code),
                    gettext("The SLA policy %(name)s is deleted.", name=policy.name))


def _deleted(delete: Callable[[], None], refused_to: str, done: str) -> Response:
    """Delete, commit and go back to the overview; refused, back to the form, saying why."""
    try:
        delete()
        edge.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return redirect(refused_to)
    flash(done, "success")
    return redirect(url_for(".index"))


@bp.route("/groups/<code>/ola", methods=["GET", "POST"])
def ola(code: str) -> Page:
    group = _by_code(SupportGroup, code)
    existing = db.session.scalar(select(OlaPolicy).where(OlaPolicy.group_id == group.id))

    def page(form: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Page:
        return render_template("sla/admin/ola.html", group=group, ola=existing, form=form,
                               errors=errors, calendars=_calendars()), status

    if not edge.request_is_post():
        return page(admin_forms.ola_values(existing), {})
    try:
        admin.save_ola(group, edge.load_form(admin_forms.OlaForm()))
        edge.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return page(edge.posted(), exc.errors, 422)
    return _saved(gettext("The OLA of %(group)s is saved.", group=localized(group, "name")), 0)


@bp.route("/groups/<code>/ola/delete", methods=["POST"])
def delete_ola(code: str) -> Response:
    group = _by_code(SupportGroup, code)
    if admin.delete_ola(group):
        edge.commit()
        flash(gettext("%(group)s has no OLA any more.", group=localized(group, "name")),
              "success")
    return redirect(url_for(".index"))
