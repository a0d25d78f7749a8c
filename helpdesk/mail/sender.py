"""Sending the outbox over SMTP: every message once, oldest first, retried with back-off.

Unlike the operations, ``send_due`` commits, once per message, right after the
server has taken it: a mail cannot be unsent, so its ``sent_at`` must not wait for
the rest of the batch (a crash later would send it again). On PostgreSQL each row
is claimed with ``FOR UPDATE SKIP LOCKED``, so two schedulers never send the same
one. What is left is at-least-once: if the database is lost between the server's
"250 OK" and our commit, that one mail goes out again.

A row's state is in its columns:

- waiting: ``attempts`` 0, ``next_attempt_at`` empty;
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
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import ColumnElement, and_, or_, select

from helpdesk.config import MailSettings, Settings
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.mail.compose import new_message_id, one_line

TIMEOUT_SECONDS = 10
MAX_BACKOFF = timedelta(hours=1)
PERMANENT_ATTEMPTS = 3  # a 5xx may be a relay's passing misconfiguration: try a few times
GIVE_UP_AFTER = timedelta(days=5)  # RFC 5321 4.5.4.1: give up after at least 4–5 days


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0  # refused for now; tried again after the back-off
    given_up: int = 0
    not_configured: bool = False  # no SMTP host: the outbox only fills
    stopped: str | None = None  # the server could not be reached: why the batch stopped

    def summary(self) -> str:
        if self.not_configured:
            return "No SMTP host is set (HELPDESK_SMTP_HOST): nothing sent, the outbox keeps the mail."
        text = f"Sent {self.sent} messages; {self.retrying} to retry later; {self.given_up} given up."
        return f"{text} Stopped: {self.stopped}" if self.stopped else text


def is_due(now: datetime) -> ColumnElement[bool]:
    return and_(OutboxMessage.sent_at.is_(None), or_(
        and_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.attempts == 0),
        OutboxMessage.next_attempt_at <= now))


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the 1st, 2nd, 3rd … failure, never more than an hour."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), MAX_BACKOFF)


def send_due(*, now: datetime, settings: Settings, limit: int = 200) -> SendResult:
    """Send up to ``limit`` messages that are due at ``now``, oldest first; commits each."""
    mail = settings.mail
    result = SendResult()
    if not mail.smtp_host:
        result.not_configured = True
        return result
    connection: smtplib.SMTP | None = None
    try:
        for _ in range(limit):
            row = _claim_next(now)
            if row is None:
                break
            if row.message_id is None:  # queued by code that leaves the id to us
                row.message_id = new_message_id(mail.domain)
            try:
                message = build_message(row, mail)
            except (ValueError, TypeError) as exc:  # e.g. a line break in the address: never sendable
                _failed(row, f"cannot be sent as a mail: {exc}", now, permanent=True, result=result,
                        at_once=True)
                db.session.commit()
                continue
            try:
                if connection is None:
                    connection = _connect(mail)
                connection.send_message(message, from_addr=_address(mail.sender),
                                        to_addrs=[row.recipient_email])
            except _REFUSALS as exc:
                _refused(row, exc, now, result)
            except smtplib.SMTPNotSupportedError as exc:  # e.g. an address the server cannot take
                _failed(row, str(exc), now, permanent=True, result=result)
            except (smtplib.SMTPException, OSError) as exc:  # the server, not this message
                _failed(row, _describe(exc, mail), now, permanent=False, result=result)
                result.stopped = row.last_error
                _close(connection)
                connection = None
                db.session.commit()
                break
            else:
                row.sent_at = now
                row.next_attempt_at = None
                result.sent += 1
            db.session.commit()
    finally:
        _close(connection)
    return result


def _claim_next(now: datetime) -> OutboxMessage | None:
    query = select(OutboxMessage).where(is_due(now)).order_by(OutboxMessage.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        # Another scheduler's claimed row is skipped, not waited for, and never sent twice.
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query).first()


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


def _refused(row: OutboxMessage, exc: smtplib.SMTPException, now: datetime,
             result: SendResult) -> None:
    text: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
    else:
        assert isinstance(exc, smtplib.SMTPDataError)
        code, text = exc.smtp_code, exc.smtp_error
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    _failed(row, f"{code} {reply}".strip(), now, permanent=code >= 500, result=result)


def _failed(row: OutboxMessage, error: str, now: datetime, *, permanent: bool,
            result: SendResult, at_once: bool = False) -> None:
    row.attempts = (row.attempts or 0) + 1
    row.last_error = error[:2000]
    if at_once or (permanent and row.attempts >= PERMANENT_ATTEMPTS) or (
            not permanent and now - row.created_at >= GIVE_UP_AFTER):
        row.next_attempt_at = None
        result.given_up += 1
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        result.retrying += 1


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
