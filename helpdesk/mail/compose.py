"""One notification mail: its language, its texts from the templates, its thread headers.

Texts live in ``templates/emails/<kind>.txt`` and ``.html``, rendered in the
recipient's language. Every mail about a ticket names the same root Message-ID,
``ticket.<reference>@<domain>``, in In-Reply-To/References: mail clients put all
of a ticket's mail in one thread, and a reply's References finds the ticket.

Message-IDs are stored without angle brackets, as the inbound side stores the
ones it receives (so one lookup finds a reply to either); the sender adds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from babel import Locale, dates
from flask import current_app
from flask_babel import force_locale, get_timezone, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import Access, staff_access
from helpdesk.app import LOCALES
from helpdesk.config import Settings
from helpdesk.core.bulk import id_of
from helpdesk.core.i18n import N_
from helpdesk.tickets.models import Ticket

SUBJECT_LIMIT = 300  # the outbox column


@dataclass(frozen=True)
class Mail:
    """A rendered mail to one person, ready for the outbox."""

    kind: str
    recipient: User
    ticket: Ticket
    locale: str
    subject: str
    body: str
    html_body: str
    message_id: str
    in_reply_to: str
    references: str
    auto_generated: bool
    payload: dict[str, Any] = field(default_factory=dict)

    def outbox_fields(self) -> dict[str, Any]:
        """The keyword arguments of ``queue_message`` (all but ``now``)."""
        return {
            "kind": self.kind, "recipient_email": self.recipient.email,
            "recipient_user_id": id_of(self.recipient), "ticket_id": id_of(self.ticket),
            "locale": self.locale, "subject": self.subject, "body": self.body,
            "html_body": self.html_body, "message_id": self.message_id,
            "in_reply_to": self.in_reply_to, "references": self.references,
            "auto_generated": self.auto_generated, "payload": dict(self.payload),
        }


def locale_for(user: User, settings: Settings) -> str:
    """The recipient's own language, else the organisation's default (else Swedish)."""
    for choice in (user.locale, settings.default_locale):
        if choice in LOCALES:
            return choice
    return LOCALES[0]


def thread_root(reference: str, domain: str) -> str:
    """The Message-ID every mail about the ticket answers (no mail carries it itself)."""
    return f"ticket.{reference}@{domain}"


def new_message_id(domain: str, reference: str | None = None) -> str:
    unique = uuid.uuid4().hex
    return f"{unique}.{reference}@{domain}" if reference else f"{unique}@{domain}"


def thread_headers(reference: str, domain: str, answering: str | None = None) -> tuple[str, str]:
    """(In-Reply-To, References): the ticket's root, then the mail we answer, if one came in."""
    root = thread_root(reference, domain)
    if not answering:
        return root, root
    answering = answering.strip("<>")
    return answering, f"{root} {answering}"


def one_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """A header value: a subject typed with line breaks must not become a second header."""
    return " ".join(text.split())[:limit]


class _Words:
    """The reader's catalogue and clock, looked up once per mail.

    Flask-Babel finds the language through the app context on every gettext call (some
    30 µs); an SLA sweep renders hundreds of mails of two dozen texts each, so a mail's
    templates get a gettext bound to the catalogue itself, with the same rules as the
    app's (Jinja's "newstyle": always %-formatted, escaped in HTML).
    """

    def __init__(self, locale: str) -> None:
        self.locale = Locale.parse(locale)
        self.catalogue = get_translations()
        self.zone: tzinfo | None = get_timezone()
        self._said: dict[datetime, str] = {}  # both parts of a mail name the same times

    def text(self, message: str, **params: Any) -> str:
        return str(self.catalogue.gettext(message)) % params

    def template_gettext(self) -> Callable[..., str]:
        catalogue = self.catalogue

        @pass_context
        def gettext(context: Context, message: str, **params: Any) -> str:
            text: str = catalogue.gettext(message)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            return text % params

        return gettext

    def when(self, moment: datetime) -> str:
        """A due time in plain words: "Tuesday 10 March at 14:00"."""
        if moment not in self._said:
            def part(pattern: str) -> str:
                return dates.format_datetime(moment, pattern, tzinfo=self.zone, locale=self.locale)

            self._said[moment] = self.text(N_("%(day)s at %(time)s"), day=part("EEEE d MMMM"),
                                           time=part("HH:mm"))
        return self._said[moment]


def ticket_url(ticket: Ticket, recipient: User, settings: Settings) -> str | None:
    """The ticket's page as the recipient sees it: the portal for requesters, the agent's
    page for staff; none when the site's address is not set."""
    if not settings.base_url:
        return None
    # Staff get the agent's page: they are mailed about tickets they work. Of a ticket they
    # opened themselves outside their groups, the portal's, where they read it as its
    # requester (asked only then: alerts to a whole group would ask for every member).
    # (By the object: a ticket being made has no requester_id until it is flushed.)
    as_staff = recipient.is_staff and (recipient is not ticket.requester
                                       or staff_access(recipient, ticket) != Access.NONE)
    where = "agent" if as_staff else "portal"
    return f"{settings.base_url}/{where}/tickets/{ticket.reference}"


def compose(kind: str, *, ticket: Ticket, recipient: User, settings: Settings,
            subject: Callable[[], str], auto_generated: bool, answering: str | None = None,
            payload: dict[str, Any] | None = None, **context: Any) -> Mail:
    """Render ``kind``'s templates for ``recipient``; ``subject`` is called in their language.

    ``answering`` is the Message-ID of a mail that came in on the ticket and that this
    mail answers, so the requester's mail program threads the answer under it.
    """
    locale = locale_for(recipient, settings)
    with force_locale(locale):
        words = _Words(locale)
        title = one_line(subject())
        values = {"ticket": ticket, "recipient": recipient, "locale": locale, "subject": title,
                  "settings": settings, "when": words.when, "gettext": words.template_gettext(),
                  "ticket_url": ticket_url(ticket, recipient, settings), **context}
        templates = current_app.jinja_env
        body = templates.get_template(f"emails/{kind}.txt").render(values)
        html = templates.get_template(f"emails/{kind}.html").render(values)
    in_reply_to, references = thread_headers(ticket.reference, settings.mail.domain, answering)
    return Mail(kind=kind, recipient=recipient, ticket=ticket, locale=locale, subject=title,
                body=body, html_body=html,
                message_id=new_message_id(settings.mail.domain, ticket.reference),
                in_reply_to=in_reply_to, references=references, auto_generated=auto_generated,
                payload=payload or {})
