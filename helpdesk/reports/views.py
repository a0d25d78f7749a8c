"""Report pages for leads and administrators: SLA compliance with the tickets behind each
figure, where the time went, volume and trends, and the monthly service-level report with
its decision. Every report also downloads as CSV and XLSX (``?format=csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.models import Role
from helpdesk.catalogue.models import Service
from helpdesk.core.errors import DomainError, InvalidInput
from helpdesk.extensions import db
from helpdesk.reports import compliance as report
from helpdesk.reports import exports, service_level, subscriptions, tables, time_report, volume
from helpdesk.reports.models import Decision
from helpdesk.reports.period import Period, local_today, parse_month, previous_month
from helpdesk.reports.schemas import ComplianceQuery, DecisionForm, TimeSpentQuery, VolumeQuery
from helpdesk.tiers.models import SupportGroup
from helpdesk.web import edge
from helpdesk.web.template_helpers import localized

bp = Blueprint("reports", __name__, url_prefix="/reports")
MANAGERS = frozenset({Role.LEAD, Role.ADMIN})


@bp.before_request
@login_required
def _managers_only() -> None:
    # Reports show every group's tickets: leads and administrators only; others find nothing.
    if edge.actor().role not in MANAGERS:
        abort(404)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"dimension_labels": report.DIMENSION_LABELS, "metric_labels": report.METRIC_LABELS,
            "dimensions": list(report.Dimension), "time_columns": time_report.COLUMNS,
            "time_column_labels": time_report.COLUMN_LABELS}


def _english() -> bool:
    return str(get_locale()) != "sv"


def _query(schema: type[ComplianceQuery] = ComplianceQuery) -> dict[str, Any]:
    raw = {key: value for key, value in request.args.items() if value != ""}
    try:
        return schema().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise InvalidInput({k: [str(m) for m in v] for k, v in messages.items()}) from exc


def _filters(query: dict[str, Any]) -> report.Filters:
    if query["first_day"] is None:
        period = previous_month(local_today(edge.now()))
    else:
        period = Period(query["first_day"], query["last_day"])
    return report.Filters(period, service_id=query["service"], tier=query["tier"],
                          group_id=query["group"])


def _form(filters: report.Filters, dimension: report.Dimension) -> dict[str, Any]:
    """The filters as the page's form shows them again (and its links repeat them)."""
    return {"first_day": filters.period.first_day.isoformat(),
            "last_day": filters.period.last_day.isoformat(), "by": dimension.value,
            "service": filters.service_id or "", "tier": filters.tier or "",
            "group": filters.group_id or ""}


def _by_name(rows: Sequence[Any]) -> list[Any]:
    """Services or groups in the order of their names in the reader's language."""
    return sorted(rows, key=lambda row: localized(row, "name").casefold())


def _choices() -> dict[str, Any]:
    return {"services": _by_name(db.session.scalars(select(Service)).all()),
            "groups": _by_name(db.session.scalars(select(SupportGroup)).all())}


@bp.route("/")
def compliance() -> Any:
    try:
        query = _query()
    except InvalidInput as exc:
        return render_template("reports/compliance.html", form=request.args.to_dict(),
                               errors=exc.errors, rows=None, **_choices()), 422
    filters = _filters(query)
    dimension = report.Dimension(query["by"])
    rows = report.compliance(dimension, filters, english=_english())
    if query["format"]:
        headers, cells = tables.compliance_table(rows, dimension, gettext)
        return exports.download(query["format"], f"sla-compliance-{filters.period.first_day}",
                                headers, cells)
    form = _form(filters, dimension)
    charts: dict[report.Metric, list[tuple[str, float]]] = {}
    for row in rows:
        charts.setdefault(row.metric, []).append((row.label, row.met_percent))
    return render_template("reports/compliance.html", form=form, errors={}, rows=rows,
                           charts=charts, dimension=dimension, filters=filters, **_choices())


@bp.route("/time")
def time_spent() -> Any:
    """Where the time went: business time per tier, at vendors and with the customer."""
    try:
        query = _query(TimeSpentQuery)
    except InvalidInput as exc:
        return render_template("reports/time_spent.html", form=request.args.to_dict(),
                               errors=exc.errors, rows=None, **_choices()), 422
    filters = _filters(query)
    dimension = report.Dimension(query["by"])
    rows = time_report.where_time_went(dimension, filters, english=_english())
    if query["format"]:
        headers, cells = tables.time_spent_table(rows, dimension, gettext)
        return exports.download(query["format"], f"time-spent-{filters.period.first_day}",
                                headers, cells)
    chart = [(r.label, {c: r.percent(c) for c in time_report.COLUMNS}) for r in rows]
    names = {c: gettext(time_report.COLUMN_LABELS[c]) for c in time_report.COLUMNS}
    return render_template("reports/time_spent.html", form=_form(filters, dimension), errors={},
                           rows=rows, dimension=dimension, chart=chart, column_names=names,
                           **_choices())


@bp.route("/time/tickets")
def time_tickets() -> Any:
    try:
        query = _query(TimeSpentQuery)
    except InvalidInput:
        abort(400)
    filters = _filters(query)
    dimension = report.Dimension(query["by"])
    found = time_report.tickets_behind(dimension, filters, key=query["key"])
    if query["format"]:
        headers, cells = tables.time_tickets_table(found, gettext)
        return exports.download(query["format"], "time-spent-tickets", headers, cells)
    return render_template("reports/time_tickets.html", tickets=found, filters=filters,
                           dimension=dimension, form=_form(filters, dimension), key=query["key"])


@bp.route("/volume")
def trends() -> Any:
    try:
        query = _query(VolumeQuery)
    except InvalidInput as exc:
        return render_template("reports/volume.html", form=request.args, errors=exc.errors,
                               report=None, **_choices()), 422
    period = _filters(query).period
    found = volume.volume(period, unit=query["unit"], service_id=query["service"], now=edge.now())
    if query["format"]:
        headers, cells = tables.volume_table(found, gettext)
        return exports.download(query["format"], f"volume-{period.first_day}", headers, cells)
    form = {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(),
            "unit": query["unit"], "service": query["service"] or ""}
    return render_template("reports/volume.html", form=form, errors={}, report=found,
                           chart=[(b.label, b.created) for b in found.buckets],
                           most=max([b.created for b in found.buckets] + [1]), **_choices())


@bp.route("/tickets")
def tickets() -> Any:
    try:
        query = _query()
    except InvalidInput:
        abort(400)
    filters = _filters(query)
    dimension = report.Dimension(query["by"])
    metric = report.Metric(query["metric"]) if query["metric"] else None
    found = report.tickets_behind(dimension, filters, key=query["key"], metric=metric,
                                  outcome=query["outcome"])
    if query["format"]:
        headers, cells = tables.tickets_table(found, gettext)
        return exports.download(query["format"], "sla-tickets", headers, cells)
    return render_template("reports/tickets.html", tickets=found, query=query, filters=filters,
                           dimension=dimension, metric=metric)


@bp.route("/monthly")
def monthly_index() -> Any:
    service_code = request.args.get("service", "")
    month_text = request.args.get("month", "")
    if service_code and month_text:
        return redirect(url_for(".monthly", code=service_code, month_text=month_text))
    return render_template("reports/monthly_index.html",
                           services=_by_name(db.session.scalars(select(Service).where(
                               Service.sla_policy_id.is_not(None))).all()),
                           default_month=previous_month(local_today(edge.now())).month_key)


def _service_and_month(code: str, month_text: str) -> tuple[Service, Period]:
    service = db.session.scalar(select(Service).where(Service.code == code))
    try:
        period = parse_month(month_text)
    except ValueError:
        abort(404)
    if service is None:
        abort(404)
    return service, period


@bp.route("/monthly/<code>/<month_text>")
def monthly(code: str, month_text: str) -> Any:
    service, period = _service_and_month(code, month_text)
    snapshot = service_level.report(service, period, now=edge.now())
    kind = request.args.get("format")
    if kind in exports.FORMATS:
        headers, cells = tables.monthly_table(snapshot, gettext)
        return exports.download(kind, f"service-level-{service.code}-{month_text}", headers, cells)
    return render_template("reports/monthly.html", report=snapshot, service=service,
                           decision=service_level.decision_for(service, period), errors={},
                           form={})


@bp.route("/monthly/<code>/<month_text>/decision", methods=["POST"])
def decide(code: str, month_text: str) -> Response | tuple[str, int]:
    service, period = _service_and_month(code, month_text)
    try:
        data = edge.load_form(DecisionForm())
        service_level.decide(service, period, decision=Decision(data["decision"]),
                             comment=data["comment"], actor=edge.actor(), now=edge.now())
    except InvalidInput as exc:
        errors = exc.errors
    except DomainError as exc:
        errors = {"comment": [edge.error_text(exc)]}
    else:
        edge.commit()
        flash(gettext("The decision is saved."))
        return redirect(url_for(".monthly", code=code, month_text=month_text))
    # decide() refuses before it writes anything: nothing to roll back.
    return render_template("reports/monthly.html", service=service, errors=errors,
                           report=service_level.report(service, period, now=edge.now()),
                           decision=service_level.decision_for(service, period),
                           form=edge.posted()), 422


@bp.route("/subscriptions", methods=["GET", "POST"])
def mails() -> Any:
    """The report mails the lead gets; POST subscribes to one more."""
    errors: dict[str, list[str]] = {}
    if edge.request_is_post():
        try:
            subscriptions.subscribe(edge.actor(), report=request.form.get("report", ""),
                                    frequency=request.form.get("frequency", ""), now=edge.now())
        except DomainError as exc:
            errors = {"report": [edge.error_text(exc)]}
        else:
            edge.commit()
            flash(gettext("You will get the report by mail."))
            return redirect(url_for(".mails"))
    return render_template("reports/subscriptions.html", errors=errors, form=edge.posted(),
                           rows=subscriptions.subscriptions_of(edge.actor()),
                           reports=subscriptions.REPORTS, frequencies=subscriptions.FREQUENCIES
                           ), 422 if errors else 200


@bp.route("/subscriptions/<int:subscription_id>/delete", methods=["POST"])
def unsubscribe(subscription_id: int) -> Response:
    try:
        subscriptions.unsubscribe(edge.actor(), subscription_id)
    except DomainError:
        abort(404)
    edge.commit()
    flash(gettext("The report mail is stopped."))
    return redirect(url_for(".mails"))
