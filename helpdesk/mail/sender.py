"""Sending the outbox over SMTP: every message once, oldest first, retried with back-off.

Unlike the operations, ``send_due`` commits, twice per message. First its claim:
``next_attempt_at`` moved ``CLAIM`` ahead, so that no other sender (the scheduler's
leader while an administrator runs ``helpdesk mail send``, say) takes the message while
this one talks to the server and records what it said. The row is chosen with ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL and after taking the write lock (BEGIN IMMEDIATE) on
SQLite, so two senders never claim the same one. No transaction is open while the server
answers: on SQLite another writer's commit would leave it unable to write the outcome.

Then the outcome, right after the server has answered: a mail cannot be unsent, so its
``sent_at`` must not wait for the rest of the batch (a crash later would send it again).
A database too busy to take it (SQLite's write lock held by other writers) is asked again
for ``RECORD_SECONDS``; if it still cannot, the run stops there, and the claim keeps
every sender off the message until it runs out. What is left is at-least-once: if the
database is lost (or busy that long) between the server's "250 OK" and our commit, that
one mail goes out again when its claim has run out, with the same Message-ID.

A row's state is in its columns:

- waiting: ``attempts`` 0, ``next_attempt_at`` empty;
- being sent: ``claimed_at`` set and ``next_attempt_at`` (the claim's end) not passed;
- to retry: ``next_attempt_at`` set (1, 2, 4 … minutes after a failure, at most an hour);
- given up: tried (``attempts`` > 0) and no next attempt; ``last_error`` says why. A
  recipient refused for good (5xx) three times, or a temporary refusal for five days;
- sent: ``sent_at``.

When the server cannot be reached, the batch stops: the message being sent waits
its back-off with the error, the others keep their place and lose no attempt.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import DBAPIError

from helpdesk.config import MailSettings, Settings
from helpdesk.core.concurrency import is_transient, write_intent
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.mail.compose import new_message_id, one_line

TIMEOUT_SECONDS = 10
MAX_BACKOFF = timedelta(hours=1)
PERMANENT_ATTEMPTS = 3  # a 5xx may be a relay's passing misconfiguration: try a few times
GIVE_UP_AFTER = timedelta(days=5)  # RFC 5321 4.5.4.1: give up after at least 4–5 days
# How long an outcome the database cannot take is tried again: six of SQLite's waits for
# its write lock (LOCK_WAIT_MS), far longer than any other writer holds it.
RECORD_SECONDS = 30.0
RECORD_PAUSE_SECONDS = 0.5  # between tries refused at once (a full disk), not after a wait
# How long a sender holds the message it sends: far longer than a few replies of the
# server (TIMEOUT_SECONDS each) and RECORD_SECONDS last, short beside the retries.
CLAIM = timedelta(minutes=15)


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0  # refused for now; tried again after the back-off
    given_up: int = 0
    not_configured: bool = False  # no SMTP host: the outbox only fills
    # Why the batch stopped: the server could not be reached, or the database was too busy.
    stopped: str | None = None

    def summary(self) -> str:
        if self.not_configured:
            return "No SMTP host is set (HELPDESK_SMTP_HOST): nothing sent, the outbox keeps the mail."
        text = f"Sent {self.sent} messages; {self.retrying} to retry later; {self.given_up} given up."
        return f"{text} Stopped: {self.stopped}" if self.stopped else text


@dataclass(frozen=True)
class ClaimedMessage:
    """A claimed message as it goes out, made with the claim: nothing is loaded, and no
    transaction open, while the server answers."""

    row_id: int
    recipient: str
    mail: EmailMessage
    claimed_until: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one message, to be written on its row."""

    error: str | None = None  # None: the server has it
    permanent: bool = False  # a refusal of this message for good
    at_once: bool = False  # given up without another try


class _DatabaseBusy(Exception):
    """The database could not take a claim or an outcome in time; the text says what that
    leaves, for the batch's ``stopped``."""


def is_due(now: datetime) -> ColumnElement[bool]:
    return and_(OutboxMessage.sent_at.is_(None), or_(
        and_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.attempts == 0),
        OutboxMessage.next_attempt_at <= now))


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the 1st, 2nd, 3rd … failure, never more than an hour."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), MAX_BACKOFF)


def send_due(*, now: datetime, settings: Settings, limit: int = 200) -> SendResult:
    """Send up to ``limit`` messages that are due at ``now``, oldest first; commits each
    claim and each outcome."""
    mail = settings.mail
    result = SendResult()
    if not mail.smtp_host:
        result.not_configured = True
        return result
    # On SQLite each claim and outcome begins with the write lock (BEGIN IMMEDIATE): a
    # read first would make a snapshot that another writer's commit leaves unwritable.
    token = write_intent.set(True)
    try:
        # The first claim's commit would end the caller's transaction anyway: ended here,
        # so that the claim begins one of its own, with the write lock.
        db.session.commit()
        _send_batch(now, mail, limit, result)
    except _DatabaseBusy as exc:
        result.stopped = str(exc)
    finally:
        write_intent.reset(token)
    return result


def _send_batch(now: datetime, mail: MailSettings, limit: int, result: SendResult) -> None:
    connection: smtplib.SMTP | None = None
    try:
        for _ in range(limit):
            claimed = _claim_next(now, mail, result)
            if claimed is None:
                break
            unreachable = None
            try:
                if connection is None:
                    connection = _connect(mail)
                connection.send_message(claimed.mail, from_addr=_address(mail.sender),
                                        to_addrs=[claimed.recipient])
                outcome = Outcome()
            except _REFUSALS as exc:
                outcome = _refusal(exc)
            except smtplib.SMTPNotSupportedError as exc:  # e.g. an address the server cannot take
                outcome = Outcome(str(exc), permanent=True)
            except (smtplib.SMTPException, OSError) as exc:  # the server, not this message
                unreachable = _describe(exc, mail)
                outcome = Outcome(unreachable)
                _close(connection)
                connection = None
            _record(claimed, outcome, now, result)
            if unreachable:
                result.stopped = unreachable
                break
    finally:
        _close(connection)


def _oldest_due(now: datetime) -> OutboxMessage | None:
    query = select(OutboxMessage).where(is_due(now)).order_by(OutboxMessage.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        # Another sender's row, locked while it claims it, is skipped, not waited for.
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query).first()


def _claim_next(now: datetime, mail: MailSettings, result: SendResult) -> ClaimedMessage | None:
    """The oldest due message, made ready to go and held for this sender until
    ``now + CLAIM``; committed, so that every other sender sees the claim before the
    server hears of the message. None when nothing is due."""
    try:
        while True:
            row = _oldest_due(now)
            if row is None:
                db.session.commit()  # ends the read (on SQLite, lets go of the write lock)
                return None
            if row.message_id is None:  # queued by code that leaves the id to us
                row.message_id = new_message_id(mail.domain)
            try:
                message = build_message(row, mail)
            except (ValueError, TypeError) as exc:  # e.g. a line break in the address: never sendable
                counted = _apply(row, Outcome(f"cannot be sent as a mail: {exc}", permanent=True,
                                              at_once=True), now)
                db.session.commit()
                _count(result, counted)
                continue
            row.next_attempt_at, row.claimed_at = now + CLAIM, now
            claimed = ClaimedMessage(row.id, row.recipient_email, message, row.next_attempt_at)
            db.session.commit()
            return claimed
    except DBAPIError as exc:
        db.session.rollback()
        if not is_transient(exc):
            raise
        raise _DatabaseBusy("the database was too busy to take the next message; "
                            "nothing more was sent.") from exc


def _record(claimed: ClaimedMessage, outcome: Outcome, now: datetime, result: SendResult) -> None:
    """The outcome written on the message, which ends its claim. A database too busy to take
    it is tried again for RECORD_SECONDS, the claim keeping every other sender off the
    message meanwhile; then the batch stops."""
    deadline = time.monotonic() + RECORD_SECONDS
    while True:
        try:
            row = db.session.get(OutboxMessage, claimed.row_id, with_for_update=True,
                                 populate_existing=True)
            counted = None
            # Only while the claim is still this sender's: a claim that ran out may have
            # been sent again by another sender, whose outcome is the one to keep.
            if row is not None and row.next_attempt_at == claimed.claimed_until:
                counted = _apply(row, outcome, now)
            db.session.commit()
            _count(result, counted)
            return
        except DBAPIError as exc:
            db.session.rollback()
            if not is_transient(exc):
                raise
            if time.monotonic() >= deadline:
                raise _DatabaseBusy(_unrecorded(claimed, outcome)) from exc
        time.sleep(RECORD_PAUSE_SECONDS)


def _unrecorded(claimed: ClaimedMessage, outcome: Outcome) -> str:
    what = "went out" if outcome.error is None else f"was not sent ({outcome.error})"
    return (f"message {claimed.row_id} to {claimed.recipient} {what}, but the database stayed "
            f"too busy to record that; no sender takes it again before "
            f"{claimed.claimed_until:%Y-%m-%d %H:%M} UTC, and nothing more was sent.")


def _apply(row: OutboxMessage, outcome: Outcome, now: datetime) -> str:
    """Write the outcome on the row, which ends its claim; the name of the count it adds to."""
    row.claimed_at = None
    if outcome.error is None:
        row.sent_at = now
        row.next_attempt_at = None
        return "sent"
    return _failed(row, outcome.error, now, permanent=outcome.permanent, at_once=outcome.at_once)


def _count(result: SendResult, counted: str | None) -> None:
    if counted is not None:
        setattr(result, counted, getattr(result, counted) + 1)


def _connect(mail: MailSettings) -> smtplib.SMTP:
    # EHLO with our mail domain: the default looks the host's name up in DNS, which can hang.
    connection = smtplib.SMTP(mail.smtp_host, mail.smtp_port, local_hostname=mail.domain,
                              timeout=TIMEOUT_SECONDS)
    try:
        connection.ehlo()
        if mail.smtp_starttls:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if mail.smtp_user:
            connection.login(mail.smtp_user, mail.smtp_password)
    except BaseException:
        _close(connection)
        raise
    return connection


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


# Refusals of this one message; the connection stays usable (smtplib sent RSET).
_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


def _refusal(exc: smtplib.SMTPException) -> Outcome:
    text: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
    else:
        assert isinstance(exc, smtplib.SMTPDataError)
        code, text = exc.smtp_code, exc.smtp_error
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return Outcome(f"{code} {reply}".strip(), permanent=code >= 500)


def _failed(row: OutboxMessage, error: str, now: datetime, *, permanent: bool,
            at_once: bool = False) -> str:
    row.attempts = (row.attempts or 0) + 1
    row.last_error = error[:2000]
    if at_once or (permanent and row.attempts >= PERMANENT_ATTEMPTS) or (
            not permanent and now - row.created_at >= GIVE_UP_AFTER):
        row.next_attempt_at = None
        return "given_up"
    row.next_attempt_at = now + backoff(row.attempts)
    return "retrying"


def _describe(exc: BaseException, mail: MailSettings) -> str:
    where = f"{mail.smtp_host}:{mail.smtp_port}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{where} refused: {exc.smtp_code} {reply}"
    return f"{where} could not be reached: {exc.__class__.__name__}: {exc}"


def _address(sender: str) -> str:
    return parseaddr(sender)[1] or sender


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def build_message(row: OutboxMessage, mail: MailSettings) -> EmailMessage:
    """The mail as it goes out: text and HTML alternatives and the thread headers."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = row.recipient_email
    message["Subject"] = one_line(row.subject)
    # When it was written, not when the server came back: a ticket's mails keep their order.
    message["Date"] = format_datetime(row.created_at)
    if row.message_id:
        message["Message-ID"] = _bracketed(row.message_id)
    if row.in_reply_to:
        message["In-Reply-To"] = _bracketed(row.in_reply_to)
    if row.references:
        message["References"] = " ".join(_bracketed(i) for i in row.references.split())
    if row.auto_generated:
        # RFC 3834; Exchange's out-of-office and read receipts ignore Auto-Submitted.
        message["Auto-Submitted"] = (row.payload or {}).get("auto_submitted", "auto-generated")
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(row.body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    # After the parts are made: making them moves every Content-* header into the first part.
    message["Content-Language"] = row.locale
    return message
