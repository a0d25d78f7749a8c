"""Personal API tokens: created and revoked by their owner, stored hashed, shown once.

A token is ``hd_`` and 43 random URL-safe characters (256 bits). Only its SHA-256 is
kept: with that much randomness a slow hash adds nothing, and a fast one keeps each
request's lookup to one indexed read.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import unicodedata
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db
from helpdesk.tickets.schemas import storable

PREFIX = "hd_"
NAME_MAX_LENGTH = 100
# An expiry further ahead is no expiry worth the name, and a date near the end of the
# calendar would not survive being turned into a moment in UTC and back.
MAX_YEARS_AHEAD = 10


class Scope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # also create tickets, fire events, write messages


class ApiToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so the owner can tell their tokens apart in the list.
    hint: Mapped[str] = mapped_column(String(12))
    scope: Mapped[Scope] = mapped_column(value_enum(Scope, 10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        return (self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
                and self.user.active)

    def state(self, now: datetime) -> str:
        """"active", or why not: "revoked" and "expired" for good, "user inactive" for as long
        as the owner is deactivated (then no token of theirs works)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if not self.user.active:
            return "user inactive"
        return "active"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _shows_something(character: str) -> bool:
    # Format characters (a zero-width space, a direction mark) and control characters
    # take no room on a page: a name of only those would be an empty cell in the list.
    return not character.isspace() and unicodedata.category(character) not in ("Cf", "Cc")


def token_name(name: str) -> str:
    """The name as it is kept (stripped), or DomainError: the one rule for the page and
    the console alike."""
    name = name.strip()
    if not any(_shows_something(character) for character in name):
        raise DomainError(N_("Give the token a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(N_("Give a name of at most 100 characters."))
    try:
        storable(name)
    except ValidationError as exc:
        raise DomainError(str(exc.messages[0])) from exc
    return name


def create_token(user: User, *, name: str, scope: Scope, now: datetime,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is not kept and cannot be shown again."""
    name = token_name(name)
    if expires_at is not None and expires_at <= now:
        raise DomainError(N_("The expiry date must be in the future."))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_digest(secret),
                     hint=secret[:10], scope=scope, created_at=now, expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return token, secret


def token_of(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens (nobody else's: an administrator revokes by CLI)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(N_("No such token."))
    return token


def revoke_token(token: ApiToken, *, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(),
                                                                     ApiToken.id.desc())))


def authenticate(secret: str, now: datetime) -> ApiToken | None:
    """The usable token with this secret, or None (unknown, revoked, expired, user inactive)."""
    if not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret))
                              .options(joinedload(ApiToken.user)))
    return token if token is not None and token.usable(now) else None
