"""The administrator's catalogue: every service, the publication gate and the lifecycle."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import fields, pre_load
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.permissions import require_admin
from helpdesk.catalogue import publication, queries
from helpdesk.catalogue.models import ROUTINE_LEVELS, Lifecycle, Service
from helpdesk.catalogue.views import bp
from helpdesk.core.errors import DomainError, InvalidInput, NotFound
from helpdesk.core.i18n import N_
from helpdesk.core.labels import LIFECYCLE_LABELS
from helpdesk.extensions import db
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.schemas import CHOOSE, _Form, choice, text
from helpdesk.web import edge


class LifecycleForm(_Form):
    to = choice([v.value for v in Lifecycle], required=True)
    retiring_on = fields.Date(load_default=None, error_messages={
        "invalid": N_("Write a date as YYYY-MM-DD.")})

    @pre_load
    def _blank_date(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if not (k == "retiring_on" and not v.strip())}


class RoutinesForm(_Form):
    routine_level1 = text(5000, required=False)
    routine_level2 = text(5000, required=False)
    routine_level3 = text(5000, required=False)
    # A policy's code, "none" for no SLA, or empty: not decided yet.
    sla = fields.String(load_default="")


def _admin() -> None:
    try:
        require_admin(edge.actor())
    except NotFound:
        abort(404)


def _service(code: str) -> Service:
    service = db.session.query(Service).filter_by(code=code).one_or_none()
    if service is None:
        abort(404)
    return service


@bp.route("/admin/catalogue")
@login_required
def admin_index() -> str:
    _admin()
    services = queries.all_services()
    return render_template("catalogue/admin_index.html", services=services,
                           problems={s.id: publication.gate_problems(s) for s in services})


def _page(service: Service, form: dict[str, str], errors: dict[str, list[str]],
          missing: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "catalogue/admin_service.html", service=service, form=form, errors=errors,
        missing=publication.gate_problems(service) if missing is None else missing,
        MISSING=publication.MISSING, moves=sorted(publication.MOVES[service.lifecycle]),
        policies=db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.name)).all(),
    ), status


@bp.route("/admin/catalogue/<code>", methods=["GET", "POST"])
@login_required
def admin_service(code: str) -> tuple[str, int] | Response:
    _admin()
    service = _service(code)
    if not edge.request_is_post():
        return _page(service, {}, {})
    try:
        data = edge.load_form(LifecycleForm())
        to = Lifecycle(data["to"])
        if service.lifecycle == Lifecycle.PROPOSED:
            publication.publish(service, to=to)
        else:
            if to == Lifecycle.RETIRING and data["retiring_on"] is None:
                raise InvalidInput({"retiring_on": [N_("Give the date by which the service is "
                                                       "retired.")]})
            publication.change_lifecycle(service, to, retiring_on=data["retiring_on"])
        edge.commit()
    except InvalidInput as exc:
        return _page(service, edge.posted(), exc.errors, status=422)
    except publication.NotPublishable as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return _page(_service(code), edge.posted(), {}, missing=exc.missing, status=422)
    except DomainError as exc:
        db.session.rollback()
        flash(edge.error_text(exc), "error")
        return _page(_service(code), edge.posted(), {}, status=422)
    flash(gettext("%(service)s is now: %(lifecycle)s.", service=service.name,
                  lifecycle=gettext(LIFECYCLE_LABELS[service.lifecycle.value])), "success")
    return redirect(url_for("catalogue.admin_service", code=service.code))


@bp.route("/admin/catalogue/<code>/routines", methods=["POST"])
@login_required
def admin_routines(code: str) -> tuple[str, int] | Response:
    _admin()
    service = _service(code)
    try:
        data = edge.load_form(RoutinesForm())
        policy = None
        if data["sla"] not in ("", "none"):
            policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.code == data["sla"]))
            if policy is None:
                raise InvalidInput({"sla": [CHOOSE]})
        publication.write_routines_and_sla(
            service, routines={level: data[f"routine_{level}"] for level in ROUTINE_LEVELS},
            sla_policy=policy, no_sla=data["sla"] == "none")
        edge.commit()
    except InvalidInput as exc:
        return _page(service, edge.posted(), exc.errors, status=422)
    flash(gettext("The routines and the SLA decision of %(service)s are saved.",
                  service=service.name), "success")
    return redirect(url_for("catalogue.admin_service", code=service.code))
