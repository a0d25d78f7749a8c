"""Receiving one mail: store it, then decide what it becomes, exactly once.

Whatever arrives is first written to disk and given an ``InboundMail`` row, in the
same transaction as what it becomes (a ticket, a reply, a note), so a mail is
either wholly received or not at all, and receiving it twice is recognised by
its ``dedup_key``. Nothing is dropped: what cannot be handled goes to the
quarantine with a reason, and auto-replies and reports are kept as ignored.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from helpdesk.accounts.models import Role, User
from helpdesk.catalogue import approvals
from helpdesk.config import Settings
from helpdesk.core.bulk import block_local
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.mail import reasons, replies
from helpdesk.mail.models import InboundMail, Mailbox, Outcome
from helpdesk.mail.parse import (
    MailAttachment,
    MailKind,
    MailParseError,
    ParsedMail,
    parse_message,
    without_reference_tags,
)
from helpdesk.tickets import attachments as attachment_store
from helpdesk.tickets.models import Channel, Ticket
from helpdesk.tickets.operations import add_incoming_note, create_ticket, requester_reply
from helpdesk.tiers.routing import RoutingDecision

# A mail gets this priority until a person looks at it: one person affected, normal urgency.
MAIL_IMPACT, MAIL_URGENCY = 3, 2
_REPLY_PREFIX = re.compile(r"^\s*((re|sv|aw|fw|fwd|vb|vs|antw|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Received:
    """What became of one mail."""

    inbound: InboundMail = field(repr=False, compare=False)
    outcome: Outcome
    reason: str
    ticket_reference: str | None = None
    duplicate: bool = False
    # Quarantined because the content itself cannot be handled (not e.g. a loop): the MTA
    # pipe tells the sender by refusing the mail.
    refused: bool = False

    @property
    def inbound_id(self) -> int:
        """The stored mail's id (a flush gives it, if its group has not been written yet)."""
        if self.inbound.id is None:
            db.session.flush()
        return self.inbound.id


def dedup_key(raw: bytes, message_id: str | None) -> str:
    """The same mail fetched twice, or delivered to two of our addresses, has one key.

    The Message-ID alone is not trusted (some senders reuse them), so the body's hash
    goes with it; the headers are left out because each delivery adds its own.
    """
    if not message_id:
        return hashlib.sha256(raw).hexdigest()
    split = re.search(rb"\r?\n\r?\n", raw)
    body = raw[split.end():] if split else b""
    return hashlib.sha256(message_id.encode() + b"\n" + hashlib.sha256(body).digest()).hexdigest()


def receive(raw: bytes, *, mailbox: Mailbox | None, now: datetime, settings: Settings) -> Received:
    """Store ``raw`` and make of it what it is; the caller commits (or rolls back all of it).

    Nothing is flushed here: a group of mails is written by one flush when the caller's
    bulk block ends (``helpdesk.core.bulk``), so the lookups below see the group's
    earlier mails among the session's new objects as well as in the database.
    """
    with db.session.no_autoflush:
        return _receive(raw, mailbox=mailbox, now=now, settings=settings)


def _receive(raw: bytes, *, mailbox: Mailbox | None, now: datetime, settings: Settings) -> Received:
    try:
        parsed: ParsedMail | None = parse_message(raw)
        problem = ""
    except MailParseError as exc:
        parsed, problem = None, str(exc)
    inbound = open_inbound(raw, mailbox=mailbox, now=now, settings=settings,
                           message_id=parsed.message_id if parsed else None,
                           sender=parsed.sender_email if parsed else None,
                           subject=parsed.subject if parsed else "")
    if isinstance(inbound, Received):
        return inbound
    if parsed is None:
        _quarantine(inbound, reasons.NOT_A_MAIL, problem=problem)
        return _result(inbound, refused=True)
    if len(raw) > settings.mail.max_message_bytes:
        limit = -(-settings.mail.max_message_bytes // (1024 * 1024))  # in whole MB, rounded up
        _quarantine(inbound, reasons.TOO_LARGE, limit=limit)
        if parsed.kind == MailKind.NORMAL and parsed.sender_email:
            replies.too_large(parsed, limit_mb=limit, now=now, settings=settings)
        return _result(inbound, refused=True)
    decide(inbound, parsed, mailbox=mailbox, now=now, settings=settings)
    return _result(inbound)


def open_inbound(raw: bytes, *, mailbox: Mailbox | None, now: datetime, settings: Settings,
                 message_id: str | None, sender: str | None, subject: str) -> InboundMail | Received:
    """A new row for ``raw`` with the mail stored on disk (quarantined until decided), or what
    became of it the first time, if it came before."""
    key = dedup_key(raw, message_id)
    group = _group()
    seen = next((m for m in group.mails if m.dedup_key == key), None) or (
        db.session.scalars(select(InboundMail).where(InboundMail.dedup_key == key)).first())
    if seen is not None:
        return Received(seen, seen.outcome, seen.reason, seen.ticket.reference if seen.ticket else None,
                        duplicate=True)
    inbound = InboundMail(
        dedup_key=key, message_id=(message_id or "")[:500] or None, mailbox=mailbox,
        sender=(sender or "")[:254], subject=subject[:300], received_at=now, size=len(raw),
        raw_path=store_raw(raw, key, now, settings), outcome=Outcome.QUARANTINED, reason="",
    )
    db.session.add(inbound)
    group.mails.append(inbound)
    return inbound


def decide(inbound: InboundMail, parsed: ParsedMail, *, mailbox: Mailbox | None, now: datetime,
           settings: Settings, released: bool = False) -> None:
    """Everything after storing: noise, bounces, loops, replies, new tickets."""
    if _is_our_own(parsed, settings):
        _set(inbound, Outcome.IGNORED, "our own mail came back")
        return
    if parsed.kind == MailKind.BOUNCE:
        _bounce(inbound, parsed, now=now, settings=settings)
        return
    if parsed.kind in (MailKind.AUTO_REPLY, MailKind.REPORT):
        inbound.ticket = find_ticket(parsed.subject, _answered(parsed), settings)
        _vendor_acknowledgement(parsed, inbound.ticket, now=now)
        _set(inbound, Outcome.IGNORED, f"{parsed.kind.value}: {parsed.why}")
        return
    if not parsed.sender_email:
        _quarantine(inbound, reasons.NO_SENDER)
        return
    if not released and _too_many_from(parsed.sender_email, now, settings, inbound):
        _quarantine(inbound, reasons.MAIL_LOOP, limit=settings.mail.sender_limit_per_hour,
                    sender=parsed.sender_email)
        return
    ticket = find_ticket(parsed.subject, _answered(parsed), settings)
    if _vendor_reply(inbound, ticket, parsed, now=now, settings=settings):
        return
    if ticket is not None:
        _reply(inbound, ticket, parsed, mailbox=mailbox, now=now, settings=settings,
               released=released)
        return
    _new_ticket(inbound, parsed, mailbox=mailbox, now=now, settings=settings, released=released)


def find_ticket(subject: str, answered: list[str], settings: Settings) -> Ticket | None:
    """The ticket a mail is about: by our tag in its subject, or by the Message-IDs it
    answers (ours, or mails we received), nearest first. Never by the subject's words alone."""
    from helpdesk.core.outbox import OutboxMessage
    from helpdesk.mail.parse import find_reference_tags
    from helpdesk.tickets.models import Message

    for tag in find_reference_tags(subject, settings.reference_prefix):
        ticket = _ticket_by_reference(tag)
        if ticket is not None:
            return ticket
    root = re.compile(rf"^ticket\.({re.escape(settings.reference_prefix)}-\d{{4}}-\d+)@"
                      rf"{re.escape(settings.mail.domain)}$", re.IGNORECASE)
    for message_id in answered:
        if match := root.match(message_id):
            ticket = _ticket_by_reference(match.group(1).upper())
            if ticket is not None:
                return ticket
    if not answered:
        return None
    # An earlier mail of this group, perhaps not yet written, answered by a later one.
    ticket = next((m.ticket for m in _group().mails
                   if m.ticket is not None and m.message_id in answered), None)
    if ticket is not None:
        return ticket
    for query in (
        select(OutboxMessage.ticket_id).where(OutboxMessage.message_id.in_(answered)),
        select(Message.ticket_id).where(Message.mail_message_id.in_(answered)),
        select(InboundMail.ticket_id).where(InboundMail.message_id.in_(answered)),
    ):
        ticket_id = db.session.scalars(query.where(query.selected_columns[0].is_not(None))).first()
        if ticket_id is not None:
            return db.session.get(Ticket, ticket_id)
    return None


def _answered(parsed: ParsedMail) -> list[str]:
    return [*reversed(parsed.in_reply_to), *reversed(parsed.references)]


def _reply(inbound: InboundMail, ticket: Ticket, parsed: ParsedMail, *, mailbox: Mailbox | None,
           now: datetime, settings: Settings, released: bool) -> None:
    sender = _user_by_address(parsed.sender_email or "")
    uploads, left_out = _uploads(parsed.attachments, settings)
    body = _with_left_out(parsed.text, left_out)
    inbound.ticket = ticket
    if _approval_reply(inbound, ticket, sender, body, now=now, settings=settings):
        return
    if sender is not None and sender is ticket.requester:
        try:
            message = requester_reply(ticket, actor=sender, body=body or "-", now=now,
                                      settings=settings, uploads=uploads)
        except DomainError:
            # Closed beyond the reopening window, or cancelled: a new ticket that points back.
            _new_ticket(inbound, parsed, mailbox=mailbox, now=now, settings=settings,
                        released=released, follow_up_of=ticket)
            return
        message.mail_message_id = inbound.message_id
        message.html_body = parsed.html
        inbound.ticket_message = message
        _set(inbound, Outcome.REPLY, "the requester's reply")
        return
    # Anyone else (a colleague in copy, a staff member, a stranger who knows the tag) is
    # shown to the staff as a note: it neither speaks for the requester nor moves the ticket.
    # A stranger is named by the mail's From (mail.authors), so the name is kept with it.
    note = add_incoming_note(ticket, author=sender, body=body, now=now, settings=settings,
                             event="mail_note", uploads=uploads, sender=parsed.sender_email,
                             sender_name=parsed.sender_name[:200])
    note.mail_message_id = inbound.message_id
    note.html_body = parsed.html
    inbound.ticket_message = note
    _set(inbound, Outcome.REPLY, f"a note from {parsed.sender_email}, who is not the requester")


def _approval_reply(inbound: InboundMail, ticket: Ticket, sender: User | None, body: str, *,
                    now: datetime, settings: Settings) -> bool:
    """An authorised approver answering the approval mail of an order that waits: their
    first word decides. Anyone else's reply is handled as any other and decides nothing."""
    if ticket.status != approvals.AWAITING or sender is None or not ticket.service.may_approve(
            sender):
        return False
    decision = approvals.decide_by_mail(ticket, approver=sender, text=body, now=now,
                                        settings=settings)
    if decision is None:
        return False
    done = "approved" if decision == "approve" else "rejected"
    _set(inbound, Outcome.REPLY, f"the order {done} by {sender.email}")
    return True


# External vendors (helpdesk.vendors) ------------------------------------------------------


def _vendor_reply(inbound: InboundMail, ticket: Ticket | None, parsed: ParsedMail, *,
                  now: datetime, settings: Settings) -> bool:
    """A vendor's answer to a handoff goes on the ticket as the vendor's, not as a note from
    a stranger nor as the requester's; True if the mail was one."""
    from helpdesk.vendors import inbound as vendor_inbound
    from helpdesk.vendors.operations import record_vendor_reply

    found = vendor_inbound.recognise(parsed.sender_email, parsed.subject, parsed.text, ticket)
    if found is None:
        return False
    uploads, left_out = _uploads(parsed.attachments, settings)
    message = record_vendor_reply(found.handoff, body=_with_left_out(parsed.text, left_out),
                                  now=now, settings=settings, sender=parsed.sender_email or "",
                                  case_number=found.case_number, solved=found.solved,
                                  uploads=uploads)
    message.mail_message_id = inbound.message_id
    message.html_body = parsed.html
    inbound.ticket = found.handoff.ticket
    inbound.ticket_message = message
    _set(inbound, Outcome.REPLY, f"the reply of vendor {found.handoff.vendor.code}")
    return True


def _vendor_acknowledgement(parsed: ParsedMail, ticket: Ticket | None, *, now: datetime) -> None:
    """A vendor's automatic receipt is ignored like any, but its case number is worth keeping."""
    from helpdesk.vendors import inbound as vendor_inbound
    from helpdesk.vendors.operations import learn_case_number

    found = vendor_inbound.recognise(parsed.sender_email, parsed.subject, parsed.text, ticket)
    if found is not None and found.handoff.active:
        learn_case_number(found.handoff, found.case_number, now=now)


def _follow_up_subject(subject: str, old: Ticket, prefix: str) -> str:
    """A reply to one of our mails about ``old`` carries its tag and the mail's own words
    ("[HD-2026-000006] Löst: Skrivaren"): the new ticket is named as the old one was, or by
    what the requester wrote instead; the tag is in its description."""
    own_words = _REPLY_PREFIX.sub("", without_reference_tags(subject, prefix)).strip()
    if not own_words or old.subject.casefold() in own_words.casefold():
        return old.subject
    return own_words


def _new_ticket(inbound: InboundMail, parsed: ParsedMail, *, mailbox: Mailbox | None, now: datetime,
                settings: Settings, released: bool, follow_up_of: Ticket | None = None) -> None:
    if mailbox is None:
        _quarantine(inbound, reasons.NO_MAILBOX)
        return
    requester = _user_by_address(parsed.sender_email or "")
    if requester is None:
        if settings.mail.unknown_senders == "instruct" and not released:
            replies.unknown_sender(parsed, now=now, settings=settings)
            _quarantine(inbound, reasons.UNKNOWN_SENDER)
            return
        requester = _new_requester(parsed, settings)
    uploads, left_out = _uploads(parsed.attachments, settings)
    description = _with_left_out(parsed.text, left_out) or "-"
    subject = _REPLY_PREFIX.sub("", parsed.subject).strip() or "(no subject)"
    if follow_up_of is not None:
        subject = _follow_up_subject(subject, follow_up_of, settings.reference_prefix)
        description = f"[{follow_up_of.reference}]\n\n{description}"
    routed_by = None
    if mailbox.group is not None:
        routed_by = RoutingDecision(mailbox.group.code, N_("Mail to %(mailbox)s goes to its group."),
                                    {"mailbox": mailbox.address})
    try:
        ticket = create_ticket(requester=requester, service=mailbox.service, subject=subject[:200],
                               description=description, impact=MAIL_IMPACT, urgency=MAIL_URGENCY,
                               now=now, settings=settings, channel=Channel.EMAIL, uploads=uploads,
                               routed_by=routed_by, origin_message_id=inbound.message_id,
                               # It carries the old ticket's subject and quotes its text.
                               confidential=follow_up_of is not None and follow_up_of.confidential)
    except DomainError as exc:  # e.g. the mailbox's service is retired
        _quarantine(inbound, reasons.NO_TICKET, problem=str(exc))
        return
    inbound.ticket = ticket
    if follow_up_of is not None:
        from helpdesk.tickets.history import record

        record(ticket, "follow_up_of", actor=None, now=now, reference=follow_up_of.reference)
        record(follow_up_of, "followed_up_by", actor=None, now=now, reference=ticket.reference)
        _set(inbound, Outcome.NEW_TICKET, f"a reply to {follow_up_of.reference}, which can no "
                                          "longer be reopened")
        return
    _set(inbound, Outcome.NEW_TICKET, "a new request")


def _bounce(inbound: InboundMail, parsed: ParsedMail, *, now: datetime, settings: Settings) -> None:
    """A delivery failure goes on the ticket whose mail bounced, as a note; it never reopens."""
    bounce = parsed.bounce
    ticket = None
    if bounce is not None and (bounce.original_message_id or bounce.original_subject):
        original = [bounce.original_message_id] if bounce.original_message_id else []
        ticket = find_ticket(bounce.original_subject or "", original, settings)
    if ticket is None:
        ticket = find_ticket(parsed.subject, _answered(parsed), settings)
    if ticket is None:
        _set(inbound, Outcome.IGNORED, "a delivery failure for mail that was not about a ticket")
        return
    who = (bounce.recipient if bounce else None) or "?"
    detail = " ".join(x for x in ((bounce.status if bounce else None), (bounce.diagnostic if bounce
                                                                          else "")) if x)
    inbound.ticket = ticket
    inbound.ticket_message = add_incoming_note(
        ticket, author=None, body=f"{who}: {detail or parsed.why}", now=now, settings=settings,
        event="mail_bounced", recipient=who)
    _set(inbound, Outcome.BOUNCE, f"delivery to {who} failed")


def _is_our_own(parsed: ParsedMail, settings: Settings) -> bool:
    ours = f"@{settings.mail.domain}".lower()
    return (parsed.sender_email or "").lower() == settings.mail.sender.lower() or (
        (parsed.message_id or "").lower().endswith(ours))


def _too_many_from(sender: str, now: datetime, settings: Settings, inbound: InboundMail) -> bool:
    since = now - timedelta(hours=1)
    written = db.session.scalar(select(func.count(InboundMail.id)).where(
        InboundMail.sender == sender, InboundMail.received_at > since)) or 0
    unwritten = sum(1 for m in _group().mails if m.id is None and m is not inbound
                    and m.sender == sender and m.received_at > since)
    return written + unwritten >= settings.mail.sender_limit_per_hour


def _user_by_address(address: str) -> User | None:
    address = address.lower()
    return next((u for u in _group().requesters if u.email == address), None) or (
        db.session.scalars(select(User).where(User.email == address)).first())


def _ticket_by_reference(reference: str) -> Ticket | None:
    made_now = (m.ticket for m in _group().mails if m.ticket is not None)
    return next((t for t in made_now if t.reference == reference), None) or (
        db.session.scalars(select(Ticket).where(Ticket.reference == reference)).first())


@dataclass
class _Group:
    """What a group of mails received together has made so far: the group is written when
    it ends, so queries do not see it, and each mail looks here first."""

    mails: list[InboundMail] = field(default_factory=list)
    requesters: list[User] = field(default_factory=list)


def _group() -> _Group:
    # Outside a bulk block each mail is on its own: an empty group every time.
    return block_local("mail_group", _Group) or _Group()


def _new_requester(parsed: ParsedMail, settings: Settings) -> User:
    """Someone who mails the helpdesk becomes a requester (without a password: they sign in
    the organisation's way, or keep to mail)."""
    address = (parsed.sender_email or "").lower()
    user = User(email=address, name=(parsed.sender_name or address)[:200], role=Role.REQUESTER,
                locale=settings.default_locale)
    db.session.add(user)
    _group().requesters.append(user)
    return user


def _uploads(attachments: tuple[MailAttachment, ...],
             settings: Settings) -> tuple[list[attachment_store.Upload], list[str]]:
    """The attachments to store, and the names of those over the size limit (kept only in
    the raw mail, and named in the message so nobody wonders where they went)."""
    kept, left_out = [], []
    for attachment in attachments:
        if len(attachment.data) > settings.max_attachment_bytes:
            left_out.append(attachment.filename)
            continue
        kept.append(attachment_store.Upload(attachment.filename, attachment.content_type,
                                            io.BytesIO(attachment.data)))
    return kept, left_out


def _with_left_out(text: str, left_out: list[str]) -> str:
    if not left_out:
        return text.strip()
    names = ", ".join(left_out)
    return f"{text.strip()}\n\n[Attachments over the size limit, kept only in the original mail: {names}]"


def store_raw(raw: bytes, key: str, now: datetime, settings: Settings) -> str:
    """The mail as it arrived, byte for byte, in a file of its own (removed if the
    transaction that received it rolls back)."""
    relative = f"{now:%Y/%m}/{key[:16]}-{secrets.token_hex(8)}.eml"
    path = raw_root(settings) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    attachment_store.forget_on_rollback(db.session(), path)
    return relative


def raw_root(settings: Settings) -> Path:
    return settings.instance_dir / "mail"


def _quarantine(inbound: InboundMail, reason: str, **params: object) -> None:
    """Kept for an administrator, who reads ``reason`` (one of mail.reasons) in their language."""
    _set(inbound, Outcome.QUARANTINED, reasons.written(reason, **params))


def _set(inbound: InboundMail, outcome: Outcome, reason: str) -> None:
    inbound.outcome, inbound.reason = outcome, reason


def _result(inbound: InboundMail, *, refused: bool = False) -> Received:
    return Received(inbound, inbound.outcome, inbound.reason,
                    inbound.ticket.reference if inbound.ticket else None,
                    refused=refused and inbound.outcome == Outcome.QUARANTINED)
