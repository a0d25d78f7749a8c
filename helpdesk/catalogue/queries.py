"""What the catalogue pages read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import (
    ORDERABLE,
    Lifecycle,
    MaintenanceWindow,
    RequestFormAnswers,
    Service,
    service_approvers,
)
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.models import Ticket

# Retired services keep a page (their tickets link to it) but leave the catalogue's list.
ON_PORTAL = ORDERABLE | {Lifecycle.RETIRED}
_SEARCHED = ("code", "name", "name_en", "description", "description_en", "category",
             "long_description", "long_description_en")


def orderable_services(search: str = "") -> list[Service]:
    """The catalogue as the portal lists it, by category; ``search`` keeps the services that
    have each of its words in a name, description or category (any case, any language).

    Matched in Python: a catalogue has tens of entries, and SQLite's lower() knows only
    ASCII, so "ÅTKOMST" would not find "åtkomst" there.
    """
    services = db.session.scalars(select(Service).where(Service.lifecycle.in_(ORDERABLE))
                                  .order_by(Service.category, Service.name)).all()
    words = search.casefold().split()
    if not words:
        return list(services)

    def text(service: Service) -> str:
        return " ".join(str(getattr(service, column) or "") for column in _SEARCHED).casefold()

    return [s for s in services if all(word in text(s) for word in words)]


def service_for_portal(code: str) -> Service | None:
    return db.session.scalar(
        select(Service).where(Service.code == code, Service.lifecycle.in_(ON_PORTAL)))


# The answer to a ticket for a service code that names no service.
UNKNOWN_SERVICE = N_("There is no service with the code %(code)s.")


def service_to_order(code: str) -> Service | None:
    """The service by its code, with what creating a ticket on it reads (its level-1 group,
    its SLA policy and the policy's calendar) in the same query."""
    return db.session.scalar(select(Service).where(Service.code == code).options(
        joinedload(Service.level1_group),
        joinedload(Service.sla_policy).joinedload(SlaPolicy.calendar)))


def upcoming_maintenance(service: Service, now: datetime) -> list[MaintenanceWindow]:
    return [w for w in service.maintenance_windows if w.ends_at > now]


def answers_of(ticket: Ticket) -> list[dict[str, Any]]:
    stored = db.session.get(RequestFormAnswers, ticket.id)
    return list(stored.answers) if stored is not None else []


def all_services() -> list[Service]:
    return list(db.session.scalars(select(Service).order_by(Service.category, Service.name)))


def is_approver(user: User) -> bool:
    """Whether the menu offers this person the approvals page."""
    if not user.is_authenticated:
        return False
    return db.session.scalar(select(service_approvers.c.service_id).where(
        service_approvers.c.user_id == user.id).limit(1)) is not None
