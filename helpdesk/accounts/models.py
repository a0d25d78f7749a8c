"""People who use the helpdesk and what they may do."""

from __future__ import annotations

import enum
import secrets
from functools import cache
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.core.types import value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.org.models import OrgUnit
    from helpdesk.tiers.models import SupportGroup


class Role(enum.StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.ADMIN})


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        value_enum(Role, 20)
    )
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    org_unit: Mapped[OrgUnit | None] = relationship()
    groups: Mapped[list[SupportGroup]] = relationship(
        secondary="support_group_members", back_populates="members", order_by="SupportGroup.tier"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @validates("email")
    def _lower_case(self, _key: str, address: str) -> str:
        # Addresses are compared without regard to case everywhere (login, mail from a
        # sender), so they are kept in lower case and the unique index answers both.
        return address.strip().lower()

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


@cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def check_decoy_password(password: str) -> bool:
    """A password check against no account's hash, taking as long as a real one: False."""
    check_password_hash(_decoy_hash(), password)
    return False
