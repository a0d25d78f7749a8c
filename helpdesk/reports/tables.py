"""The reports as rows of cells: what the CSV and XLSX downloads hold, headers translated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from helpdesk.reports.compliance import (
    DIMENSION_LABELS,
    METRIC_LABELS,
    ComplianceRow,
    Dimension,
    TicketBehind,
)
from helpdesk.reports.time_report import COLUMN_LABELS, COLUMNS, TicketTime, TimeRow
from helpdesk.reports.volume import Volume
from helpdesk.sla.models import Metric

Table = tuple[list[str], list[list[Any]]]
HOUR_US = 3_600_000_000


def _hours(us: int) -> float:
    return round(us / HOUR_US, 2)


def compliance_table(rows: Sequence[ComplianceRow], dimension: Dimension,
                     _: Callable[[str], str]) -> Table:
    headers = [_(DIMENSION_LABELS[dimension]), _("Promise"), _("Clocks"), _("Met"), _("Breached"),
               _("Met (percent)"), _("Median (business hours)"), _("90th percentile (business hours)")]
    return headers, [[r.label, _(METRIC_LABELS[r.metric]), r.count, r.met, r.breached,
                      r.met_percent, _hours(r.median_us), _hours(r.p90_us)] for r in rows]


def tickets_table(found: Sequence[TicketBehind], _: Callable[[str], str]) -> Table:
    headers = [_("Ticket"), _("Priority"), _("Promise"), _("Business hours"), _("Target (hours)"),
               _("Breached"), _("Stopped (UTC)")]
    return headers, [[t.reference, t.priority, _(METRIC_LABELS[t.metric]), _hours(t.elapsed_us),
                      _hours(t.target_us), _("yes") if t.breached else _("no"),
                      t.stopped_at.isoformat()] for t in found]


def monthly_table(report: dict[str, Any], _: Callable[[str], str]) -> Table:
    """The results and the credits, then one line per breach."""
    headers = [_("Promise"), _("Clocks"), _("Met"), _("Breached"), _("Met (percent)"), _("Target (percent)"),
               _("Points under target"), _("Service credit (percent)"), _("Ticket")]
    rows: list[list[Any]] = []
    for r in report["results"]:
        rows.append([_(METRIC_LABELS[Metric(r["metric"])]), r["count"], r["met"], r["breached"],
                     r["met_percent"], r["target_percent"], r["points_under"], r["credit_percent"],
                     ""])
    rows.append([_("Total service credit (percent)"), "", "", "", "", "", "",
                 report["total_credit_percent"], ""])
    for b in report["breaches"]:
        rows.append([_(METRIC_LABELS[Metric(b["metric"])]), "", "", "", "", "", "", "",
                     b["reference"]])
    return headers, rows


def volume_table(report: Volume, _: Callable[[str], str]) -> Table:
    headers = [_("Period"), _("Created"), _("Resolved"), _("Open at the end")]
    return headers, [[b.label, b.created, b.resolved, b.open_at_end] for b in report.buckets]


def _time_columns(_: Callable[[str], str]) -> list[str]:
    return [_("%(column)s (business hours)") % {"column": _(COLUMN_LABELS[c])} for c in COLUMNS]


def time_spent_table(rows: Sequence[TimeRow], dimension: Dimension, _: Callable[[str], str]) -> Table:
    headers = [_(DIMENSION_LABELS[dimension]), _("Tickets"), *_time_columns(_),
               _("Total (business hours)"), _("Per ticket (business hours)")]
    return headers, [[r.label, r.tickets, *(_hours(r.spent_us.get(c, 0)) for c in COLUMNS),
                      _hours(r.total_us), _hours(r.per_ticket_us)] for r in rows]


def time_tickets_table(found: Sequence[TicketTime], _: Callable[[str], str]) -> Table:
    headers = [_("Ticket"), *_time_columns(_), _("Total (business hours)")]
    return headers, [[t.reference, *(_hours(t.spent_us.get(c, 0)) for c in COLUMNS),
                      _hours(t.total_us)] for t in found]
