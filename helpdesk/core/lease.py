"""A lease in the database: which of several scheduler processes may act now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db


class Lease(db.Model):  # type: ignore[name-defined]
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def acquire(name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; True if ``holder`` has it until ``now + ttl``.

    One UPDATE decides: it succeeds for the current holder or when the lease has
    expired, and the database's row lock makes two contenders take turns.
    """
    renewed = db.session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Lease).values(name=name, holder=holder, acquired_at=now,
                                                   expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def release(name: str, holder: str) -> None:
    db.session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
    )
