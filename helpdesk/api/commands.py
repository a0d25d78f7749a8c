"""``helpdesk api token create|list|revoke``: tokens for integrations, from the console."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.api.tokens import (
    MAX_YEARS_AHEAD,
    ApiToken,
    Scope,
    create_token,
    revoke_token,
    token_name,
    tokens_of,
)
from helpdesk.core.clock import utcnow
from helpdesk.core.errors import DomainError
from helpdesk.extensions import db


@click.group("api")
def api_group() -> None:
    """The REST API."""


@api_group.group("token")
def token_group() -> None:
    """Personal API tokens."""


def _user(email: str) -> User:
    # Kept in lower case (User's validator): an address typed as it appears in a mail
    # header, capitals and all, is the same person.
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with the address {email}")
    return user


def _name(_ctx: click.Context, _param: click.Parameter, name: str) -> str:
    try:
        return token_name(name)
    except DomainError as exc:
        raise click.BadParameter(str(exc)) from exc


@token_group.command("create")
@click.option("--email", required=True, help="Whose token it is.")
@click.option("--name", required=True, callback=_name,
              help="What it is for, e.g. the monitoring system.")
@click.option("--scope", type=click.Choice([s.value for s in Scope]), default=Scope.READ.value,
              show_default=True)
@click.option("--expires-days", type=click.IntRange(min=1, max=MAX_YEARS_AHEAD * 365),
              default=None, help=f"At most {MAX_YEARS_AHEAD} years, as on the token page.")
@with_appcontext
def token_create(email: str, name: str, scope: str, expires_days: int | None) -> None:
    """Create a token and print it (once: only its hash is kept)."""
    now = utcnow()
    user = _user(email)
    if not user.active:
        # Its every request would be refused with 401, whatever the token's state says.
        raise click.ClickException(f"{user.email} is deactivated: a token of theirs would not "
                                   "work. Reactivate the user first.")
    try:
        token, secret = create_token(
            user, name=name, scope=Scope(scope), now=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Token {token.id} ({token.scope.value}) for {user.email}:")
    click.echo(secret)


@token_group.command("list")
@click.option("--email", required=True)
@with_appcontext
def token_list(email: str) -> None:
    """The user's tokens and their state."""
    now = utcnow()
    for token in tokens_of(_user(email)):
        click.echo(f"{token.id:>5}  {token.hint}…  {token.scope.value:<5}  {token.state(now):<13}  "
                   f"{token.name}")


@token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))  # the id column's range
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke a token (anyone's: this is the administrator's console)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    revoke_token(token, now=utcnow())
    db.session.commit()
    click.echo(f"Token {token_id} revoked.")
