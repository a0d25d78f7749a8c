"""The administrator's catalogue: every service, the publication gate and the lifecycle."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import fields, pre_load
from werkzeug.wrappers import Response

from helpdesk.accounts.permissions import require_admin
from helpdesk.catalogue import publication, queries
from helpdesk.catalogue.models import Lifecycle, Service
from helpdesk.catalogue.views import bp
from helpdesk.core.errors import DomainError, InvalidInput, NotFound
from helpdesk.core.i18n import N_
from helpdesk.core.labels import LIFECYCLE_LABELS
from helpdesk.extensions import db
from helpdesk.tickets.schemas import _Form, choice
from helpdesk.web import edge


class LifecycleForm(_Form):
    to = choice([v.value for v in Lifecycle], required=True)
    retiring_on = fields.Date(load_default=None, error_messages={
        "invalid": N_("Write a date as YYYY-MM-DD.")})

    @pre_load
    def _blank_date(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if not (k == "retiring_on" and not v.strip())}


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
