"""What a report page accepts in its address and forms."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from helpdesk.core.i18n import N_
from helpdesk.reports.compliance import Dimension
from helpdesk.reports.exports import FORMATS
from helpdesk.reports.volume import UNITS
from helpdesk.sla.models import Metric

CHOOSE_ONE = N_("Choose one of the listed.")


class ComplianceQuery(Schema):
    first_day = fields.Date(load_default=None, error_messages={"invalid": N_("Give a date as 2026-10-01.")})
    last_day = fields.Date(load_default=None, error_messages={"invalid": N_("Give a date as 2026-10-31.")})
    by = fields.String(load_default=Dimension.SERVICE.value,
                       validate=validate.OneOf([d.value for d in Dimension], error=CHOOSE_ONE))
    service = fields.Integer(load_default=None, allow_none=True)
    tier = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 3))
    group = fields.Integer(load_default=None, allow_none=True)
    format = fields.String(load_default=None, validate=validate.OneOf(FORMATS))
    # The figure whose tickets are listed.
    key = fields.Integer(load_default=None)
    metric = fields.String(load_default=None, validate=validate.OneOf([m.value for m in Metric]))
    outcome = fields.String(load_default="all", validate=validate.OneOf(["all", "met", "breached"]))

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        first, last = data.get("first_day"), data.get("last_day")
        if (first is None) != (last is None):
            raise ValidationError(N_("Give both the first and the last day."), "last_day")
        if first and last and last < first:
            raise ValidationError(N_("The last day is before the first."), "last_day")
        if first and last and (last - first).days > 400:
            raise ValidationError(N_("A report covers at most 400 days."), "last_day")


class DecisionForm(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class VolumeQuery(ComplianceQuery):
    unit = fields.String(load_default="month", validate=validate.OneOf(UNITS))


class TimeSpentQuery(ComplianceQuery):
    """Where the time went is per service or per group."""

    by = fields.String(load_default=Dimension.SERVICE.value,
                       validate=validate.OneOf([Dimension.SERVICE.value, Dimension.GROUP.value],
                                               error=CHOOSE_ONE))
