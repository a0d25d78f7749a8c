"""``helpdesk mail ingest`` (the MTA pipe) and ``helpdesk mail poll`` (IMAP, once).

The pipe answers the MTA in sysexits codes: 0 when the mail is ours (whatever
it became), 75 (EX_TEMPFAIL) when it could not be stored now, so the MTA keeps
it and tries again, and 65 (EX_DATAERR) only for mail that is stored in the
quarantine because its content cannot be handled, so the sender hears of it.
"""

from __future__ import annotations

import sys
import time
from contextlib import suppress

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import is_lost_race
from helpdesk.extensions import db

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75
ATTEMPTS = 10


@click.command("ingest")
@click.option("--recipient", help="The address the mail was delivered to (Postfix: ${recipient}).")
@click.option("--mailbox", "mailbox_code", help="A mailbox's code, instead of --recipient.")
@with_appcontext
def ingest_command(recipient: str | None, mailbox_code: str | None) -> None:
    """Receive one mail (RFC 5322) from standard input."""
    from helpdesk.core.bulk import inserted_together
    from helpdesk.mail.ingest import receive
    from helpdesk.mail.models import Mailbox

    raw = sys.stdin.buffer.read()
    settings = current_app.config["HELPDESK"]
    query = select(Mailbox).where(Mailbox.active.is_(True))
    if mailbox_code:
        query = query.where(Mailbox.code == mailbox_code)
    elif recipient:
        query = query.where(func.lower(Mailbox.address) == recipient.strip().lower())
    else:
        query = query.order_by(Mailbox.id)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            mailbox = db.session.scalars(query).first()
            with inserted_together():
                received = receive(raw, mailbox=mailbox, now=utcnow(), settings=settings)
            db.session.commit()
            break
        except (OperationalError, DBAPIError) as exc:
            if is_lost_race(exc) and attempt < ATTEMPTS:
                # Another delivery wrote first (SQLite lets one writer at a time): try again
                # here rather than make the MTA wait minutes for its retry.
                db.session.rollback()
                time.sleep(0.05 * attempt)
                continue
            _let_go_of_the_database()
            click.echo(f"temporary failure, not stored: {exc.__class__.__name__}", err=True)
            sys.exit(EX_TEMPFAIL)
    what = received.ticket_reference or "-"
    click.echo(f"{received.outcome.value} {what}: {received.reason}"
               + (" (already received)" if received.duplicate else ""))
    sys.exit(EX_DATAERR if received.refused else EX_OK)


@click.command("poll")
@click.option("--limit", default=1000, show_default=True, help="At most this many mails per mailbox.")
@with_appcontext
def poll_command(limit: int) -> None:
    """Fetch new mail from every active IMAP mailbox once."""
    from helpdesk.mail.imap import MailboxUnavailable, active_mailboxes, poll

    settings = current_app.config["HELPDESK"]
    failed = False
    for mailbox in active_mailboxes():
        code = mailbox.code  # read now: after a commit it would be read from the database again
        try:
            result = poll(mailbox, settings=settings, now=utcnow, limit=limit)
        except MailboxUnavailable as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        except (OperationalError, DBAPIError) as exc:
            _let_go_of_the_database()
            click.echo(f"{code}: database unavailable, stopped: {exc.__class__.__name__}",
                       err=True)
            sys.exit(EX_TEMPFAIL)
        click.echo(f"{code}: {result.fetched} fetched, {result.duplicates} already received")
    sys.exit(1 if failed else 0)


def _let_go_of_the_database() -> None:
    """The database went away mid-transaction: drop the session and its connections without
    another round trip, so the exit code (not a second error on the way out) is what the
    caller sees."""
    with suppress(Exception):
        db.session.rollback()
    with suppress(Exception):
        db.session.close()
    with suppress(Exception):
        db.engine.dispose(close=False)
