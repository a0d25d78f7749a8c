"""Catalogue entries (services) and their support route."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.org.models import OrgUnit
    from helpdesk.sla.models import SlaPolicy
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



service_level3_groups = Table(
    "service_level3_groups",
    db.metadata,
    Column("service_id", Integer, ForeignKey("services.id"), primary_key=True),
    Column("group_id", Integer, ForeignKey("support_groups.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
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

    level1_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[level1_group_id])
    level2_group: Mapped[SupportGroup | None] = relationship(foreign_keys=[level2_group_id])
    sla_policy: Mapped[SlaPolicy | None] = relationship()
    level3_groups: Mapped[list[SupportGroup]] = relationship(
        secondary=service_level3_groups, order_by=service_level3_groups.c.position
    )

    @property
    def orderable(self) -> bool:
        return self.lifecycle in ORDERABLE


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
