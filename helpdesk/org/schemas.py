"""The organisation file's shape, validated with marshmallow."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from helpdesk.accounts.models import Role
from helpdesk.catalogue.models import Level1Choice, Lifecycle
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


class GroupSchema(_Strict):
    # "mine" is the address of a user's combined queue (/agent/queues/mine).
    code = fields.String(required=True, validate=[CODE, validate.NoneOf(["mine"])])
    name = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(1, 200))
    tier = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in GroupKind]))
    email = fields.Email(load_default=None)
    lead = fields.Email(load_default=None)
    members = fields.List(fields.Email(), load_default=list)

    @validates_schema
    def _tier_matches_kind(self, data: dict[str, Any], **_: Any) -> None:
        expected = TIER_OF_KIND.get(data.get("kind", ""))
        if expected is not None and data.get("tier") != expected:
            raise ValidationError(f"a {data['kind']} group is at tier {expected}", "tier")


class ServiceSchema(_Strict):
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

    @validates_schema
    def _named_group_given(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("level1") == Level1Choice.GROUP.value and not data.get("level1_group"):
            raise ValidationError("level1 'group' needs level1_group", "level1_group")


class UserSchema(_Strict):
    email = fields.Email(required=True)
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


class OrganisationSchema(_Strict):
    name = fields.String(load_default=None)
    org_units = fields.List(fields.Nested(OrgUnitSchema), load_default=list)
    groups = fields.List(fields.Nested(GroupSchema), load_default=list)
    services = fields.List(fields.Nested(ServiceSchema), load_default=list)
    users = fields.List(fields.Nested(UserSchema), load_default=list)
    routing_rules = fields.List(fields.Nested(RoutingRuleSchema), load_default=list)
