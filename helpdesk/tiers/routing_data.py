"""Feeding the pure routing rules from the database."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import RoutingRule, Service
from helpdesk.extensions import db
from helpdesk.tiers.models import GroupKind, SupportGroup
from helpdesk.tiers.routing import RouteRequest, Rule


def service_desk_code() -> str | None:
    return db.session.scalar(
        select(SupportGroup.code).where(SupportGroup.kind == GroupKind.SERVICE_DESK)
        .order_by(SupportGroup.id).limit(1)
    )


def route_request_for(service: Service, requester: User) -> RouteRequest:
    org_unit = requester.org_unit
    return RouteRequest(
        service=service.code,
        category=service.category,
        level1=service.level1.value,
        level1_group=service.level1_group.code if service.level1_group else None,
        org_unit=org_unit.code if org_unit else None,
        org_unit_helpdesk=(
            org_unit.local_helpdesk.code if org_unit and org_unit.local_helpdesk else None
        ),
        service_desk=service_desk_code(),
        service_name=service.name,
        org_unit_name=org_unit.name if org_unit else "",
    )


def routing_rules() -> list[Rule]:
    rows = db.session.scalars(select(RoutingRule).order_by(RoutingRule.position)).all()
    return [
        Rule(
            group=row.group.code,
            service=row.service.code if row.service else None,
            category=row.category,
            org_unit=row.org_unit.code if row.org_unit else None,
        )
        for row in rows
    ]
