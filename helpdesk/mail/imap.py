"""The IMAP poller: fetch new mail, store it, and only then mark it as ours.

A message is marked with the ``$HelpdeskStored`` keyword (and seen) only after the
commit that holds it. A crash in between leaves it unmarked, so the next poll
fetches it again, and ``receive`` recognises it: no mail is lost and none is
handled twice. The keyword, not ``\\Seen``, says what is done, so a person
reading the mailbox cannot hide mail from the helpdesk.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from helpdesk.config import Settings
from helpdesk.core.bulk import inserted_together
from helpdesk.extensions import db
from helpdesk.mail.ingest import Received, receive
from helpdesk.mail.models import Mailbox

log = logging.getLogger(__name__)
STORED = "$HelpdeskStored"
# Marked in groups: one commit and one STORE per group instead of one per message.
GROUP = 50


class MailboxUnavailable(RuntimeError):
    """The IMAP server could not be reached or refused us; the next poll tries again."""


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    received: list[Received] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.received if r.duplicate)


def poll(mailbox: Mailbox, *, settings: Settings, now: Callable[[], datetime],
         limit: int = 1000) -> PollResult:
    """Receive up to ``limit`` new messages from one mailbox, committing as it goes."""
    code = mailbox.code
    result = PollResult(code)
    client = _connect(mailbox)
    try:
        status, data = client.uid("SEARCH", "UNKEYWORD", STORED)
        if status != "OK":
            raise MailboxUnavailable(f"{code}: SEARCH failed: {data!r}")
        uids = data[0].split()[:limit] if data and data[0] else []
        for start in range(0, len(uids), GROUP):
            group = uids[start:start + GROUP]
            raws = _fetch(client, group, code)
            result.fetched += len(raws)
            result.received.extend(_receive_group(raws, mailbox, now(), settings))
            # Only now, with the group safely stored, is it marked as ours.
            client.uid("STORE", b",".join(group).decode(), "+FLAGS", f"({STORED} \\Seen)")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return result


def _receive_group(raws: list[bytes], mailbox: Mailbox, now: datetime,
                   settings: Settings) -> list[Received]:
    """A group in one transaction; if a mail makes the code fail, the group again one mail
    at a time, so that mail goes to the quarantine on its own and the rest are not lost."""
    try:
        # The group's history and outbox rows go in with one statement per table.
        with inserted_together():
            received = [receive(raw, mailbox=mailbox, now=now, settings=settings) for raw in raws]
        db.session.commit()
        return received
    except OperationalError:
        raise  # the database itself is gone: stop, nothing is marked, the next poll retries
    except Exception:  # any failure must leave the mail kept, not lost
        db.session.rollback()
    one_by_one = []
    for raw in raws:
        try:
            with inserted_together():
                one_by_one.append(receive(raw, mailbox=mailbox, now=now, settings=settings))
        except OperationalError:
            raise
        except Exception as exc:
            db.session.rollback()
            log.exception("a mail in %s could not be handled; quarantined", mailbox.code)
            from helpdesk.mail.quarantine import quarantine_failed

            one_by_one.append(quarantine_failed(raw, mailbox=mailbox, now=now, settings=settings,
                                                error=exc))
        db.session.commit()
    return one_by_one


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if not mailbox.imap_host or not mailbox.imap_user:
        raise MailboxUnavailable(f"{mailbox.code}: no IMAP server is set up")
    # Said as such: the server's "authentication failed" would send one looking for a typo.
    if mailbox.imap_password_env and mailbox.imap_password_env not in os.environ:
        raise MailboxUnavailable(f"{mailbox.code}: {mailbox.imap_password_env} is not set "
                                 "(it holds the mailbox's IMAP password)")
    password = os.environ.get(mailbox.imap_password_env or "", "")
    try:
        client = (imaplib.IMAP4_SSL if mailbox.imap_ssl else imaplib.IMAP4)(
            mailbox.imap_host, mailbox.imap_port, timeout=30)
    except OSError as exc:
        raise MailboxUnavailable(f"{mailbox.code}: {exc}") from exc
    try:
        client.login(mailbox.imap_user, password)
        status, data = client.select(_quoted(mailbox.imap_folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open {mailbox.imap_folder}: {data!r}")
    except (OSError, imaplib.IMAP4.error) as exc:
        client.shutdown()
        raise MailboxUnavailable(f"{mailbox.code}: {exc}") from exc
    return client


def _fetch(client: imaplib.IMAP4, uids: list[bytes], code: str) -> list[bytes]:
    """The group's messages in one round trip, in the order of ``uids``."""
    # BODY.PEEK leaves \Seen alone until the messages are stored.
    status, data = client.uid("FETCH", b",".join(uids).decode(), "(UID BODY.PEEK[])")
    by_uid: dict[bytes, bytes] = {}
    for part in data or ():
        if isinstance(part, tuple) and len(part) == 2:
            found = re.search(rb"UID (\d+)", part[0])
            if found:
                by_uid[found.group(1)] = bytes(part[1])
    missing = [uid for uid in uids if uid not in by_uid]
    if status != "OK" or missing:
        raise MailboxUnavailable(f"{code}: FETCH returned nothing for {missing!r} ({status})")
    return [by_uid[uid] for uid in uids]


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def active_mailboxes() -> list[Mailbox]:
    return list(db.session.scalars(select(Mailbox).where(
        Mailbox.active.is_(True), Mailbox.imap_host.is_not(None)).order_by(Mailbox.code)))
