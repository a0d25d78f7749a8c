"""Answers to senders whose mail did not become a ticket: too large, or unknown to us.

We do not know such a sender's language, so each answer says it in Swedish and
in English. They are only ever sent to a person's mail (never to an automatic
one), and the per-sender limit keeps them from feeding a loop.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext

from helpdesk.config import Settings
from helpdesk.core.i18n import N_
from helpdesk.core.outbox import queue_message
from helpdesk.mail.parse import ParsedMail


def _both_languages(subject_text: str, body_text: str, **params: object) -> tuple[str, str]:
    texts = []
    for locale in ("sv", "en"):
        with force_locale(locale):
            texts.append((gettext(subject_text, **params), gettext(body_text, **params)))
    (sv_subject, sv_body), (en_subject, en_body) = texts
    return f"{sv_subject} / {en_subject}", f"{sv_body}\n\n---\n\n{en_body}"


def too_large(parsed: ParsedMail, *, limit_mb: int, now: datetime, settings: Settings) -> None:
    subject, body = _both_languages(
        N_("Your mail to the helpdesk was too large"),
        N_("Your mail “%(subject)s” is larger than the %(limit)s MB the helpdesk accepts, so it "
        "did not become a ticket. Please send it again without the largest attachments, or "
        "share them another way and send a link."),
        subject=parsed.subject, limit=limit_mb)
    _send(parsed, "mail_too_large", subject, body, now)


def unknown_sender(parsed: ParsedMail, *, now: datetime, settings: Settings) -> None:
    subject, body = _both_languages(
        N_("Your mail to the helpdesk: please use the portal"),
        N_("The helpdesk does not know the address %(address)s, so your mail “%(subject)s” did "
        "not become a ticket. Please sign in to the helpdesk portal with your organisation's "
        "account and submit your request there, or write from the address the organisation "
        "gave you. Your mail has been kept, and the helpdesk staff can still take it up."),
        address=parsed.sender_email or "", subject=parsed.subject)
    _send(parsed, "mail_unknown_sender", subject, body, now)


def _send(parsed: ParsedMail, kind: str, subject: str, body: str, now: datetime) -> None:
    address = parsed.reply_to or parsed.sender_email
    if address:
        queue_message(kind=kind, recipient_email=address, subject=subject[:300], body=body,
                      now=now)
