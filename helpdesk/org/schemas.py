"""The organisation file's shape, validated with marshmallow."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from helpdesk.accounts.models import Role
from helpdesk.catalogue.forms import FIELD_TYPES, check_definition
from helpdesk.catalogue.models import ORDERABLE, Level1Choice, Lifecycle, Ordering, SupportModel
from helpdesk.tiers.models import GroupKind

CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,49}$", error="use 1–50 lower-case letters, digits, - or _")

TIER_OF_KIND = {
    GroupKind.LOCAL_HELPDESK.value: 1,
    GroupKind.SERVICE_DESK.value: 1,
    GroupKind.CENTRAL_SUPPORT.value: 2,
    GroupKind.EXPERT_GROUP.value: 3,
    GroupKind.BUSINESS_SUPPORT.value: 1,
}


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class OrgUnitSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(1, 200))
    local_helpdesk = fields.String(load_default=None)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*$")


class Spans(fields.Field):
    """"08:00-12:00, 13:00-17:00" -> [["08:00", "12:00"], ["13:00", "17:00"]]."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[list[str]]:
        if not isinstance(value, str):
            raise ValidationError("write hours as \"08:00-12:00, 13:00-17:00\"")
        spans = []
        for part in value.split(","):
            match = _SPAN.match(part)
            if not match:
                raise ValidationError(f"{part.strip()!r} is not a span like 08:00-17:00")
            spans.append([match.group(1), match.group(2)])
        return spans


class Minutes(fields.Field):
    """A business duration: 90, "90min", "4h" or "1h 30min" -> minutes."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        match = _DURATION.match(str(value)) if isinstance(value, str) else None
        if not match or not any(match.groups()):
            raise ValidationError(f"{value!r} is not a duration like 90, \"4h\" or \"1h 30min\"")
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if minutes <= 0:
            raise ValidationError("a target must be longer than zero")
        return minutes


class HolidaysSchema(_Strict):
    country = fields.String(required=True, validate=validate.Length(2, 3))
    categories = fields.List(fields.String(), load_default=lambda: ["public"])


class CalendarSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    timezone = fields.String(load_default="Europe/Stockholm")
    weekly_hours = fields.Dict(keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
                               values=Spans(), required=True)
    holidays = fields.Nested(HolidaysSchema, load_default=None)
    extra_closed_days = fields.Dict(keys=fields.Date(), values=fields.String(), load_default=dict)
    extra_open_days = fields.Dict(keys=fields.Date(), values=Spans(), load_default=dict)
    shortened_close = fields.String(load_default=None,
                                    validate=validate.Regexp(r"^\d\d:\d\d$"))


EFFECT_KINDS = ("warning", "breach")
EFFECT_NAMES = ("notify", "raise_priority", "escalate")


class Effects(fields.Dict):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(validate=validate.OneOf(EFFECT_KINDS)),
                         values=fields.List(fields.String(validate=validate.OneOf(EFFECT_NAMES))),
                         load_default=dict, **kwargs)


class TargetsSchema(_Strict):
    first_response = Minutes(load_default=None)
    resolution = Minutes(load_default=None)


class ServiceCreditSchema(_Strict):
    """Reports: a month under ``target_percent`` met earns a credit per whole point under."""

    target_percent = fields.Float(required=True, validate=validate.Range(0, 100))
    credit_percent_per_point = fields.Float(required=True, validate=validate.Range(min=0))
    max_credit_percent = fields.Float(required=True, validate=validate.Range(0, 100))


class SlaPolicySchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    calendar = fields.String(required=True)
    warning_percent = fields.Integer(load_default=75, validate=validate.Range(1, 99))
    paused_states = fields.List(fields.String(), load_default=lambda: ["waiting_for_customer"])
    targets = fields.Dict(keys=fields.String(validate=validate.OneOf(["P1", "P2", "P3", "P4"])),
                          values=fields.Nested(TargetsSchema), required=True)
    effects = Effects()
    # Reports: service credits per metric (first_response, resolution).
    service_credits = fields.Dict(
        keys=fields.String(validate=validate.OneOf(["first_response", "resolution"])),
        values=fields.Nested(ServiceCreditSchema), load_default=None)


class OlaSchema(_Strict):
    calendar = fields.String(required=True)
    take = Minutes(load_default=None)
    handle = Minutes(load_default=None)
    warning_percent = fields.Integer(load_default=75, validate=validate.Range(1, 99))
    effects = Effects()


class Address(fields.Email):
    """An e-mail address, in lower case as users' addresses are kept."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).lower()


class GroupSchema(_Strict):
    # "mine" is the address of a user's combined queue (/agent/queues/mine).
    code = fields.String(required=True, validate=[CODE, validate.NoneOf(["mine"])])
    name = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(1, 200))
    tier = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in GroupKind]))
    email = Address(load_default=None)
    lead = Address(load_default=None)
    members = fields.List(Address(), load_default=list)
    ola = fields.Nested(OlaSchema, load_default=None)

    @validates_schema
    def _tier_matches_kind(self, data: dict[str, Any], **_: Any) -> None:
        expected = TIER_OF_KIND.get(data.get("kind", ""))
        if expected is not None and data.get("tier") != expected:
            raise ValidationError(f"a {data['kind']} group is at tier {expected}", "tier")


# --- The service catalogue's entries (catalogue) -------------------------------------------


class FormFieldSchema(_Strict):
    name = fields.String(required=True, validate=CODE)
    label = fields.String(required=True, validate=validate.Length(1, 200))
    label_en = fields.String(load_default=None, validate=validate.Length(1, 200))
    type = fields.String(load_default="text", validate=validate.OneOf(FIELD_TYPES))
    required = fields.Boolean(load_default=False)
    choices = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list)
    help = fields.String(load_default=None)
    help_en = fields.String(load_default=None)


class MaintenanceSchema(_Strict):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    description = fields.String(load_default="")
    description_en = fields.String(load_default=None)

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("ends before it starts", "ends_at")


class RoutinesSchema(_Strict):
    level1 = fields.String(load_default="")
    level2 = fields.String(load_default="")
    level3 = fields.String(load_default="")


class CatalogueEntrySchema(_Strict):
    """What a catalogue entry says beyond its route (ServiceSchema below adds these)."""

    long_description = fields.String(load_default="")
    long_description_en = fields.String(load_default=None)
    benefit = fields.String(load_default="")
    benefit_en = fields.String(load_default=None)
    conditions = fields.String(load_default="")
    conditions_en = fields.String(load_default=None)
    information_class = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    owner = fields.String(load_default="", validate=validate.Length(0, 200))
    retiring_on = fields.Date(load_default=None)
    ordering = fields.String(load_default=Ordering.EVERYONE.value,
                             validate=validate.OneOf([o.value for o in Ordering]))
    orderers = fields.List(fields.Email(), load_default=list)
    requires_approval = fields.Boolean(load_default=False)
    approvers = fields.List(fields.Email(), load_default=list)
    support_model = fields.String(load_default=SupportModel.HELPDESK.value,
                                  validate=validate.OneOf([m.value for m in SupportModel]))
    vendor_instructions = fields.String(load_default="")
    vendor_instructions_en = fields.String(load_default=None)
    vendor_contact = fields.String(load_default="")
    support_hours = fields.String(load_default="")
    support_hours_en = fields.String(load_default=None)
    availability_hours = fields.String(load_default="")
    availability_hours_en = fields.String(load_default=None)
    price_model = fields.String(load_default="")
    price_model_en = fields.String(load_default=None)
    price_unit = fields.String(load_default="", validate=validate.Length(0, 100))
    routines = fields.Nested(RoutinesSchema, load_default=lambda: RoutinesSchema().load({}))
    request_form = fields.List(fields.Nested(FormFieldSchema), load_default=list)
    maintenance = fields.List(fields.Nested(MaintenanceSchema), load_default=list)

    @validates_schema
    def _catalogue_rules(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("lifecycle") == Lifecycle.RETIRING.value and not data.get("retiring_on"):
            raise ValidationError("a service being retired needs retiring_on", "retiring_on")
        if data.get("requires_approval") and not data.get("approvers"):
            raise ValidationError("approval needs at least one approver", "approvers")
        if data.get("ordering") == Ordering.AUTHORISED.value and not data.get("orderers"):
            raise ValidationError("authorised ordering needs at least one orderer", "orderers")
        problems = check_definition(data.get("request_form", []))
        if problems:
            raise ValidationError("; ".join(problems), "request_form")

    @post_load
    def _sla_decision(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # "none" is the decision "SLA saknas". Leaving it out means the same for a service in
        # use (as before the catalogue); a proposed service without it has not decided yet.
        if data.get("sla_policy") == "none":
            data["sla_policy"], data["no_sla"] = None, True
        else:
            data["no_sla"] = not data.get("sla_policy") and Lifecycle(
                data["lifecycle"]) in ORDERABLE | {Lifecycle.RETIRED}
        return data


# --- end of the catalogue's entries ----------------------------------------------------------


class ServiceSchema(CatalogueEntrySchema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(1, 200))
    description = fields.String(load_default="")
    description_en = fields.String(load_default=None)
    category = fields.String(load_default="", validate=validate.Length(0, 100))
    lifecycle = fields.String(
        load_default=Lifecycle.ACTIVE.value, validate=validate.OneOf([v.value for v in Lifecycle])
    )
    level1 = fields.String(required=True, validate=validate.OneOf([c.value for c in Level1Choice]))
    level1_group = fields.String(load_default=None)
    level2_group = fields.String(load_default=None)
    level3_groups = fields.List(fields.String(), load_default=list)
    # Omitted or null: "SLA saknas", the service promises no times.
    sla_policy = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _named_group_given(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("level1") == Level1Choice.GROUP.value and not data.get("level1_group"):
            raise ValidationError("level1 'group' needs level1_group", "level1_group")


class UserSchema(_Strict):
    email = Address(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    org_unit = fields.String(load_default=None)
    locale = fields.String(load_default=None, validate=validate.OneOf(["sv", "en"]))
    password = fields.String(load_default=None, validate=validate.Length(8, 200))


class RoutingRuleSchema(_Strict):
    group = fields.String(required=True)
    service = fields.String(load_default=None)
    category = fields.String(load_default=None)
    org_unit = fields.String(load_default=None)


class ImapSchema(_Strict):
    host = fields.String(required=True, validate=validate.Length(1, 200))
    port = fields.Integer(load_default=143, validate=validate.Range(1, 65535))
    user = fields.String(required=True, validate=validate.Length(1, 200))
    # The name of the environment variable holding the password: no secrets in this file.
    password_env = fields.String(required=True, validate=validate.Regexp(r"^[A-Z_][A-Z0-9_]*$"))
    folder = fields.String(load_default="INBOX", validate=validate.Length(1, 200))
    ssl = fields.Boolean(load_default=False)


class MailboxSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    address = fields.Email(required=True)
    service = fields.String(required=True)
    group = fields.String(load_default=None)  # tier-1 group that gets its new tickets first
    imap = fields.Nested(ImapSchema, load_default=None)
    active = fields.Boolean(load_default=True)


# External vendors (helpdesk.vendors) ------------------------------------------------------


class Pattern(fields.String):
    """A regular expression, checked here so a broken one is named with its path."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        try:
            re.compile(text)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from exc
        return text


class VendorContactSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.Email(load_default=None)
    phone = fields.String(load_default=None, validate=validate.Length(1, 50))
    role = fields.String(load_default="", validate=validate.Length(0, 100))


class UcTargetsSchema(_Strict):
    response = Minutes(load_default=None)
    resolution = Minutes(load_default=None)


class VendorContractSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    calendar = fields.String(required=True)
    warning_percent = fields.Integer(load_default=75, validate=validate.Range(1, 99))
    targets = fields.Dict(keys=fields.String(validate=validate.OneOf(["P1", "P2", "P3", "P4"])),
                          values=fields.Nested(UcTargetsSchema), required=True)
    effects = Effects()


class VendorServiceSchema(_Strict):
    service = fields.String(required=True)
    contract = fields.String(required=True)
    from_level = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]))


class VendorAgreementSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    service = fields.String(load_default=None, validate=validate.Length(1, 50))
    org_unit = fields.String(load_default=None)  # a department's local agreement
    contract = fields.String(load_default=None)
    instructions = fields.String(load_default="")
    valid_from = fields.Date(load_default=None)
    valid_until = fields.Date(load_default=None)


class VendorSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    support_email = fields.Email(required=True)
    mail_domains = fields.List(fields.String(validate=validate.Regexp(r"^[a-z0-9.-]+\.[a-z]+$")),
                               load_default=list)
    case_pattern = Pattern(load_default=None, validate=validate.Length(1, 200))
    solved_pattern = Pattern(load_default=None, validate=validate.Length(1, 200))
    locale = fields.String(load_default="sv", validate=validate.OneOf(["sv", "en"]))
    instructions = fields.String(load_default="")
    contacts = fields.List(fields.Nested(VendorContactSchema), load_default=list)
    contracts = fields.List(fields.Nested(VendorContractSchema), load_default=list)
    services = fields.List(fields.Nested(VendorServiceSchema), load_default=list)
    agreements = fields.List(fields.Nested(VendorAgreementSchema), load_default=list)


class OrganisationSchema(_Strict):
    name = fields.String(load_default=None)
    calendars = fields.List(fields.Nested(CalendarSchema), load_default=list)
    sla_policies = fields.List(fields.Nested(SlaPolicySchema), load_default=list)
    org_units = fields.List(fields.Nested(OrgUnitSchema), load_default=list)
    groups = fields.List(fields.Nested(GroupSchema), load_default=list)
    services = fields.List(fields.Nested(ServiceSchema), load_default=list)
    users = fields.List(fields.Nested(UserSchema), load_default=list)
    routing_rules = fields.List(fields.Nested(RoutingRuleSchema), load_default=list)
    mailboxes = fields.List(fields.Nested(MailboxSchema), load_default=list)
    vendors = fields.List(fields.Nested(VendorSchema), load_default=list)
