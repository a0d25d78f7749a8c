"""What the administrator's outbox pages show: pages of mail, each one's state and headers.

A confidential ticket is read only by its own groups and its requester (see
``accounts.permissions``); an administrator outside them sees that a mail went
to whom and what became of it, but not its subject or text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from sqlalchemy import Select, func, select

from helpdesk.accounts import permissions
from helpdesk.accounts.models import User
from helpdesk.config import MailSettings
from helpdesk.core.i18n import N_
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.mail.sender import build_message
from helpdesk.tickets.models import Ticket

PAGE_SIZE = 50
FILTERS = ("all", "unsent", "failed", "sent")
FILTER_LABELS = {"all": N_("All"), "unsent": N_("Not sent yet"),
                 "failed": N_("Failed (to be tried again, or given up)"), "sent": N_("Sent")}
KIND_LABELS = {"acknowledgement": N_("Acknowledgement to the requester"),
               "reply": N_("Reply to the requester"), "question": N_("Question to the requester"),
               "resolution": N_("Resolution to the requester"),
               "escalation": N_("Escalation notice to a group"), "sla_warning": N_("SLA warning"),
               "sla_breach": N_("SLA breach"), "report": N_("Report mail")}
STATE_LABELS = {"waiting": N_("Waiting to be sent"), "sending": N_("Being sent"),
                "retrying": N_("Failed; to be tried again"),
                "given_up": N_("Failed; given up"), "sent": N_("Sent")}
# The headers a person reads; the MIME plumbing (Content-Type and the like) is left out.
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted", "X-Auto-Response-Suppress", "Content-Language")
_STYLE_PROPERTIES = {"background", "border", "border-collapse", "border-left", "border-top",
                     "color", "font-family", "font-size", "line-height", "margin", "max-width",
                     "padding", "padding-left", "text-align"}


@dataclass(frozen=True)
class Row:
    message: OutboxMessage
    ticket: Ticket | None
    state: str
    hidden: bool  # a confidential ticket the viewer may not read


def state_of(message: OutboxMessage, now: datetime) -> str:
    if message.sent_at is not None:
        return "sent"
    claim_ends = message.next_attempt_at if message.claimed_at is not None else None
    if claim_ends is not None and claim_ends > now:
        return "sending"
    # A claim that ran out with no outcome recorded leaves the message as it was before.
    if not message.attempts:
        return "waiting"
    return "retrying" if message.next_attempt_at is not None else "given_up"


def _filtered(query: Select[Any], show: str) -> Select[Any]:
    if show == "unsent":
        return query.where(OutboxMessage.sent_at.is_(None))
    if show == "failed":
        return query.where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts > 0)
    if show == "sent":
        return query.where(OutboxMessage.sent_at.is_not(None))
    return query


def counts() -> dict[str, int]:
    """How many mails each filter shows, for its label."""
    found = {}
    for show in FILTERS:
        query = _filtered(select(OutboxMessage), show)
        found[show] = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return found


def page(show: str, number: int, *, viewer: User, now: datetime) -> tuple[list[Row], bool]:
    """One page, newest first, and whether there is a next one."""
    query = _filtered(select(OutboxMessage), show).order_by(OutboxMessage.id.desc())
    found: list[OutboxMessage] = list(db.session.scalars(
        query.limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)))
    messages = found[:PAGE_SIZE]
    ids = {m.ticket_id for m in messages if m.ticket_id is not None}
    tickets = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return ([row(m, tickets.get(m.ticket_id or 0), viewer, now) for m in messages],
            len(found) > PAGE_SIZE)


def row(message: OutboxMessage, ticket: Ticket | None, viewer: User, now: datetime) -> Row:
    hidden = ticket is not None and ticket.confidential and (
        permissions.staff_access(viewer, ticket) == permissions.Access.NONE)
    return Row(message, ticket, state_of(message, now), hidden)


def one(message_id: int, *, viewer: User, now: datetime) -> Row | None:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    ticket = db.session.get(Ticket, message.ticket_id) if message.ticket_id else None
    return row(message, ticket, viewer, now)


def headers(message: OutboxMessage, mail: MailSettings, *, hidden: bool,
            hidden_text: str) -> list[tuple[str, str]]:
    """The headers the mail goes (or went) out with; a not yet sent one has no Message-ID yet."""
    try:
        built = build_message(message, mail)
    except (ValueError, TypeError):
        return [("To", message.recipient_email)]
    shown = [(name, str(built[name])) for name in SHOWN_HEADERS if built[name] is not None]
    return [(name, hidden_text if hidden and name == "Subject" else value) for name, value in shown]


def safe_html(html: str | None) -> str:
    """Our own HTML, cleaned all the same before a browser shows it (in a sandboxed frame)."""
    if not html:
        return ""
    attributes = {tag: set(allowed) for tag, allowed in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes.setdefault("*", set()).update({"lang", "style", "role", "aria-label"})
    return nh3.clean(html, attributes=attributes, filter_style_properties=_STYLE_PROPERTIES)
