"""Catalogue entries (services) and their support route."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.org.models import OrgUnit
    from helpdesk.sla.models import SlaPolicy
    from helpdesk.tickets.models import Ticket
    from helpdesk.tiers.models import SupportGroup


class Lifecycle(enum.StrEnum):
    PROPOSED = "proposed"
    PILOT = "pilot"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"


ORDERABLE = frozenset({Lifecycle.PILOT, Lifecycle.ACTIVE, Lifecycle.RETIRING})


class Level1Choice(enum.StrEnum):
    """Who answers first for a service."""

    LOCAL_HELPDESK = "local_helpdesk"  # the requester's department's helpdesk, else the desk
    SERVICE_DESK = "service_desk"
    GROUP = "group"  # a named group, e.g. the board secretaries for the meeting system


class Ordering(enum.StrEnum):
    """Who may order a service (a service request); anyone may report an incident."""

    EVERYONE = "everyone"
    AUTHORISED = "authorised"  # only the service's authorised orderers


class SupportModel(enum.StrEnum):
    HELPDESK = "helpdesk"
    # The requester goes straight to the vendor, following the instructions on the portal
    # page; the agreement itself is registered centrally (the vendors package).
    VENDOR_DIRECT = "vendor_direct"


ROUTINE_LEVELS = ("level1", "level2", "level3")


service_level3_groups = Table(
    "service_level3_groups",
    db.metadata,
    Column("service_id", Integer, ForeignKey("services.id"), primary_key=True),
    Column("group_id", Integer, ForeignKey("support_groups.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

# Authorised orderers and approvers are named people per service, as a contract names them.
service_orderers = Table(
    "service_orderers",
    db.metadata,
    Column("service_id", Integer, ForeignKey("services.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)
service_approvers = Table(
    "service_approvers",
    db.metadata,
    Column("service_id", Integer, ForeignKey("services.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)


class Service(db.Model):  # type: ignore[name-defined]
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100), default="")
    lifecycle: Mapped[Lifecycle] = mapped_column(value_enum(Lifecycle, 20))
    level1: Mapped[Level1Choice] = mapped_column(value_enum(Level1Choice, 20))
    level1_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    level2_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    # No policy means "SLA saknas": the service promises no times and runs no clocks.
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    # "SLA saknas" decided on purpose; neither this nor a policy means nobody decided yet.
    no_sla: Mapped[bool] = mapped_column(Boolean, default=False)
    long_description: Mapped[str] = mapped_column(Text, default="")
    long_description_en: Mapped[str | None] = mapped_column(Text)
    benefit: Mapped[str] = mapped_column(Text, default="")
    benefit_en: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    conditions_en: Mapped[str | None] = mapped_column(Text)
    information_class: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200), default="")
    retiring_on: Mapped[date | None] = mapped_column(Date)
    ordering: Mapped[Ordering] = mapped_column(value_enum(Ordering, 20), default=Ordering.EVERYONE)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    support_model: Mapped[SupportModel] = mapped_column(value_enum(SupportModel, 20),
                                                        default=SupportModel.HELPDESK)
    vendor_instructions: Mapped[str] = mapped_column(Text, default="")
    vendor_instructions_en: Mapped[str | None] = mapped_column(Text)
    vendor_contact: Mapped[str] = mapped_column(Text, default="")
    support_hours: Mapped[str] = mapped_column(Text, default="")
    support_hours_en: Mapped[str | None] = mapped_column(Text)
    availability_hours: Mapped[str] = mapped_column(Text, default="")
    availability_hours_en: Mapped[str | None] = mapped_column(Text)
    price_model: Mapped[str] = mapped_column(Text, default="")
    price_model_en: Mapped[str | None] = mapped_column(Text)
    price_unit: Mapped[str] = mapped_column(String(100), default="")
    # {"level1": "...", "level2": "...", "level3": "..."}: written instructions per level.
    routines: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The request form's extra fields, see ``catalogue.forms``.
    request_form: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    level1_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[level1_group_id])
    level2_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[level2_group_id])
    sla_policy: Mapped[SlaPolicy | None] = relationship()
    level3_groups: Mapped[list[SupportGroup]] = relationship(
        secondary=service_level3_groups, order_by=service_level3_groups.c.position
    )
    orderers: Mapped[list[User]] = relationship(secondary=service_orderers, order_by="User.id")
    approvers: Mapped[list[User]] = relationship(secondary=service_approvers, order_by="User.id")
    maintenance_windows: Mapped[list[MaintenanceWindow]] = relationship(
        back_populates="service", order_by="MaintenanceWindow.starts_at",
        cascade="all, delete-orphan",
    )

    @property
    def orderable(self) -> bool:
        return self.lifecycle in ORDERABLE

    @property
    def vendor_direct(self) -> bool:
        return self.support_model == SupportModel.VENDOR_DIRECT

    def may_order(self, user: User) -> bool:
        """Whether ``user`` may place an order (a service request) for this service."""
        return self.ordering == Ordering.EVERYONE or any(u.id == user.id for u in self.orderers)

    def may_approve(self, user: User) -> bool:
        return any(u.id == user.id for u in self.approvers)


class MaintenanceWindow(db.Model):  # type: ignore[name-defined]
    """A planned service window (driftstopp) the portal announces."""

    __tablename__ = "service_maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="maintenance_windows")


class RequestFormAnswers(db.Model):  # type: ignore[name-defined]
    """A ticket's answers to its service's request form, with the questions as they were
    asked, so the answers stay readable when the form changes later."""

    __tablename__ = "request_form_answers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    # [{"name": ..., "label": ..., "label_en": ..., "value": ...}, ...] in the form's order
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    ticket: Mapped[Ticket] = relationship()


class RoutingRule(db.Model):  # type: ignore[name-defined]
    """An explicit level-1 route that wins over the service's default route.

    Empty criteria match anything; rules are tried in ``position`` order.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    category: Mapped[str | None] = mapped_column(String(100))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"))

    service: Mapped[Service | None] = relationship()
    org_unit: Mapped[OrgUnit | None] = relationship()
    group: Mapped[SupportGroup] = relationship()
