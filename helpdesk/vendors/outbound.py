"""The mails a vendor gets: the handoff, and word that we took the ticket back.

The vendor is not a user of the helpdesk, so these mails are rendered here, in the
vendor's language, and go to its support address. They carry our tag in the
subject and the ticket's thread headers, which is how the vendor's answers find
their way back (``vendors.inbound``). A person wrote them, so they are not marked
auto-submitted (RFC 3834): the vendor's systems answer them as they would a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_locale, gettext

from helpdesk.accounts.models import User
from helpdesk.app import LOCALES
from helpdesk.config import Settings
from helpdesk.core.outbox import queue_message
from helpdesk.mail.compose import new_message_id, one_line, thread_headers
from helpdesk.sla.models import UC_METRICS, ClockStatus
from helpdesk.vendors.models import VendorHandoff


def _locale(handoff: VendorHandoff) -> str:
    return handoff.vendor.locale if handoff.vendor.locale in LOCALES else LOCALES[0]


def _subject(handoff: VendorHandoff) -> str:
    ticket = handoff.ticket
    if ticket.confidential:
        return gettext("[%(reference)s] A case from the helpdesk (confidential)",
                       reference=ticket.reference)
    return gettext("[%(reference)s] A case from the helpdesk: %(subject)s",
                   reference=ticket.reference, subject=ticket.subject)


def _render(name: str, subject: str, **context: Any) -> tuple[str, str]:
    """The text and HTML parts, in the locale forced by the caller."""
    templates = current_app.jinja_env
    values = {"subject": subject, "locale": str(get_locale()), **context}
    return (templates.get_template(f"vendors/{name}.txt").render(values),
            templates.get_template(f"vendors/{name}.html").render(values))


def _queue(handoff: VendorHandoff, kind: str, subject: str, parts: tuple[str, str], *,
           now: datetime, settings: Settings, answering: str | None = None,
           **payload: Any) -> str:
    ticket = handoff.ticket
    message_id = new_message_id(settings.mail.domain, ticket.reference)
    in_reply_to, references = thread_headers(ticket.reference, settings.mail.domain, answering)
    queue_message(kind=kind, recipient_email=handoff.vendor.support_email, ticket_id=ticket.id,
                  locale=_locale(handoff), subject=one_line(subject), body=parts[0],
                  html_body=parts[1], now=now,
                  message_id=message_id, in_reply_to=in_reply_to, references=references,
                  auto_generated=False,
                  payload={"handoff_id": handoff.id, "vendor": handoff.vendor.code, **payload})
    return message_id


def send_handoff(handoff: VendorHandoff, *, now: datetime, settings: Settings) -> str:
    """Queue the handoff mail; returns its Message-ID (the thread the vendor answers)."""
    uc_clocks = [c for c in handoff.ticket.clocks
                 if c.handoff_id == handoff.id and c.metric in UC_METRICS
                 and c.status == ClockStatus.RUNNING]
    with force_locale(_locale(handoff)):
        subject = one_line(_subject(handoff))
        parts = _render("mail_handoff", subject, handoff=handoff, ticket=handoff.ticket,
                        vendor=handoff.vendor, uc_clocks=uc_clocks)
    return _queue(handoff, "vendor_handoff", subject, parts, now=now, settings=settings)


def send_recall(handoff: VendorHandoff, *, now: datetime, settings: Settings) -> str:
    with force_locale(_locale(handoff)):
        subject = one_line(gettext("Withdrawn: %(subject)s", subject=_subject(handoff)))
        parts = _render("mail_recall", subject, handoff=handoff, ticket=handoff.ticket,
                        vendor=handoff.vendor)
    return _queue(handoff, "vendor_recall", subject, parts, now=now, settings=settings,
                  answering=handoff.mail_message_id)


def send_message(handoff: VendorHandoff, text: str, author: User, *, answering: str | None,
                 now: datetime, settings: Settings) -> str:
    """A further message on the handoff, answering the vendor's latest mail if one came."""
    with force_locale(_locale(handoff)):
        subject = one_line(_subject(handoff))
        if handoff.case_number:
            subject = one_line(f"{subject} [{handoff.case_number}]")
        parts = _render("mail_message", subject, handoff=handoff, ticket=handoff.ticket,
                        vendor=handoff.vendor, text=text, author=author)
    return _queue(handoff, "vendor_message", subject, parts, now=now, settings=settings,
                  answering=answering)

