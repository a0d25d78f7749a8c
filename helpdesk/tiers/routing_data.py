"""Feeding the pure routing rules from the database."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import RoutingRule, Service
from helpdesk.core import bulk
from helpdesk.extensions import db
from helpdesk.org.models import OrgUnit
from helpdesk.tiers.models import GroupKind, SupportGroup
from helpdesk.tiers.routing import RouteRequest, Rule, needs_service_desk


def service_desk_code() -> str | None:
    return bulk.read_once("service_desk_code", _read_service_desk_code)


def _read_service_desk_code() -> str | None:
    return db.session.scalar(
        select(SupportGroup.code).where(SupportGroup.kind == GroupKind.SERVICE_DESK)
        .order_by(SupportGroup.id).limit(1)
    )


def _org_unit_of(requester: User) -> OrgUnit | None:
    """The requester's unit with its local helpdesk, both read by one query (none when the
    session holds the unit already), and kept as ``requester.org_unit``."""
    if requester.org_unit_id is None or "org_unit" not in inspect(requester).unloaded:
        return requester.org_unit
    unit = db.session.get(OrgUnit, requester.org_unit_id,
                          options=[joinedload(OrgUnit.local_helpdesk)])
    set_committed_value(requester, "org_unit", unit)
    return unit


def route_request_for(service: Service, requester: User) -> RouteRequest:
    org_unit = _org_unit_of(requester)
    helpdesk = org_unit.local_helpdesk.code if org_unit and org_unit.local_helpdesk else None
    return RouteRequest(
        service=service.code,
        category=service.category,
        level1=service.level1.value,
        level1_group=service.level1_group.code if service.level1_group else None,
        org_unit=org_unit.code if org_unit else None,
        org_unit_helpdesk=helpdesk,
        # Looked up only where routing may need it (a rule may still win over it).
        service_desk=(service_desk_code() if needs_service_desk(service.level1.value, helpdesk)
                      else None),
        service_name=service.name,
        org_unit_name=org_unit.name if org_unit else "",
    )


def routing_rules() -> list[Rule]:
    """The rules in order, as the codes they name: one query, no objects to build; read once
    in a bulk block (a batch of new tickets), which changes no rule."""
    return bulk.read_once("routing_rules", _read_routing_rules)


def _read_routing_rules() -> list[Rule]:
    rows = db.session.execute(
        select(SupportGroup.code, Service.code, RoutingRule.category, OrgUnit.code)
        .select_from(RoutingRule)
        .join(SupportGroup, RoutingRule.group_id == SupportGroup.id)
        .outerjoin(Service, RoutingRule.service_id == Service.id)
        .outerjoin(OrgUnit, RoutingRule.org_unit_id == OrgUnit.id)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [Rule(group=group, service=service, category=category, org_unit=org_unit)
            for group, service, category, org_unit in rows]
