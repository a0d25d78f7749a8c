"""The organisation: departments (org units) that requesters belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.tiers.models import SupportGroup


class OrgUnit(db.Model):  # type: ignore[name-defined]
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    # A department's own level-1 helpdesk, if it has one.
    local_helpdesk_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_groups.id", use_alter=True)
    )

    local_helpdesk: Mapped[SupportGroup | None] = relationship(foreign_keys=[local_helpdesk_id])
