"""The quarantine: mail the helpdesk kept but could not handle on its own.

Administrators see why each message is there, can download it as it arrived,
and can release it: released mail is handled again as if it had just come in,
except that the checks that sent it here for the sender's sake (the per-sender
limit, an unknown sender) no longer hold it back.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.errors import DomainError, NotFound
from helpdesk.core.i18n import N_
from helpdesk.core.labels import Label
from helpdesk.extensions import db
from helpdesk.mail import reasons
from helpdesk.mail.ingest import Received, decide, open_inbound, raw_root
from helpdesk.mail.models import InboundMail, Mailbox, Outcome
from helpdesk.mail.parse import MailParseError, parse_message


def quarantine_failed(raw: bytes, *, mailbox: Mailbox | None, now: datetime, settings: Settings,
                      error: Exception) -> Received:
    """Keep a message whose handling failed in the code, with the error as its reason."""
    try:
        parsed = parse_message(raw)
        message_id, sender, subject = parsed.message_id, parsed.sender_email, parsed.subject
    except Exception:  # the parser itself may be what failed
        message_id, sender, subject = None, None, ""
    inbound = open_inbound(raw, mailbox=mailbox, now=now, settings=settings,
                           message_id=message_id, sender=sender, subject=subject)
    if isinstance(inbound, Received):
        return inbound
    inbound.reason = reasons.written(reasons.FAILED, error=f"{type(error).__name__}: {error}")[:2000]
    return Received(inbound, inbound.outcome, inbound.reason)


def quarantined() -> list[InboundMail]:
    return list(db.session.scalars(select(InboundMail).where(
        InboundMail.outcome == Outcome.QUARANTINED).order_by(InboundMail.received_at.desc(),
                                                            InboundMail.id.desc())))


def get(inbound_id: int) -> InboundMail:
    inbound = db.session.get(InboundMail, inbound_id)
    if inbound is None:
        raise NotFound(N_("There is no such mail."))
    return inbound


def raw_path(inbound: InboundMail, settings: Settings) -> Path:
    return raw_root(settings) / inbound.raw_path


def release(inbound: InboundMail, *, actor: User, now: datetime, settings: Settings) -> InboundMail:
    """Handle a quarantined mail now; the caller commits."""
    if inbound.outcome != Outcome.QUARANTINED:
        raise DomainError(N_("This mail is not in the quarantine."))
    try:
        parsed = parse_message(raw_path(inbound, settings).read_bytes())
    except (MailParseError, OSError) as exc:
        # The problem, and the reason below, are in English: the page translates them.
        raise DomainError(N_("This mail cannot be read as a mail (%(problem)s); download it "
                             "instead."), problem=Label(str(exc))) from exc
    mailbox = inbound.mailbox or db.session.scalars(
        select(Mailbox).where(Mailbox.active.is_(True)).order_by(Mailbox.id)).first()
    decide(inbound, parsed, mailbox=mailbox, now=now, settings=settings, released=True)
    if inbound.outcome == Outcome.QUARANTINED:
        raise DomainError(N_("Released, but it still cannot be handled: %(reason)s"),
                          reason=Label(inbound.reason))
    inbound.reason = f"released: {inbound.reason}"
    inbound.outcome = Outcome.RELEASED
    inbound.released_at, inbound.released_by = now, actor
    db.session.flush()
    return inbound
