"""What a bounce tells us: which of our mails bounced, for whom, and why.

Read from the delivery-status report when there is one (RFC 3464), else from the
returned mail or its headers, else from the bounce's own text, which is all many
mail servers send. Pure: works on what the MIME walk collected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpdesk.mail.charsets import collapse
from helpdesk.mail.headers import MAX_SUBJECT, first_header, normalise_message_id
from helpdesk.mail.mime import Reader

MAX_DIAGNOSTIC = 1000


@dataclass(frozen=True)
class Bounce:
    original_message_id: str | None
    original_subject: str | None
    recipient: str | None  # Final-Recipient / Original-Recipient
    status: str | None  # e.g. "5.1.1"
    diagnostic: str  # short human text, at most MAX_DIAGNOSTIC characters


_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BODY_MESSAGE_ID = re.compile(r"^[ \t]*Message-ID:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)
_RETURNED_MAIL_STARTS = re.compile(
    r"original message|copy of the (original )?message|below this line|^[A-Za-z-]+:[ \t]", re.IGNORECASE
)
_BODY_SUBJECT = re.compile(r"^[ \t]*Subject:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)


def _human_lines(text: str) -> list[str]:
    """The bounce's own explanation: the lines before the returned mail begins."""
    lines = []
    for line in text.splitlines():
        if _RETURNED_MAIL_STARTS.search(line):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def read_bounce(reader: Reader, first: dict[str, str], text: str) -> Bounce:
    """What bounced, where and why: from the DSN fields, the returned mail, or the text."""
    fields: dict[str, str] = {}
    for name, value in reader.report_fields:
        fields.setdefault(name, value)
    recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
    recipient = recipient.split(";", 1)[-1].strip().strip("<>").lower()
    if not recipient and first.get("x-failed-recipients"):
        recipient = first["x-failed-recipients"].split(",")[0].strip().strip("<>").lower()
    status_match = _STATUS.search(fields.get("status", "")) or _STATUS.search(text)
    diagnostic = fields.get("diagnostic-code", "")
    if ";" in diagnostic[:12]:
        diagnostic = diagnostic.split(";", 1)[1]
    if not diagnostic.strip():
        diagnostic = " ".join(_human_lines(text)[:6])
    if not diagnostic.strip():
        diagnostic = "; ".join(f"{name.title()}: {fields[name]}" for name in ("action", "status")
                               if name in fields)

    message_id = subject = None
    for original in [*reader.originals, *reader.attached_messages]:
        message_id = message_id or normalise_message_id(first_header(original, "message-id", reader.notes))
        subject = subject or collapse(first_header(original, "subject", reader.notes)) or None
    if message_id is None and (match := _BODY_MESSAGE_ID.search(text)):
        message_id = normalise_message_id(match.group(1))
    if subject is None and (match := _BODY_SUBJECT.search(text)):
        subject = collapse(match.group(1))
    return Bounce(
        original_message_id=message_id,
        original_subject=subject[:MAX_SUBJECT] if subject else None,
        recipient=recipient or None,
        status=status_match.group(1) if status_match else None,
        diagnostic=collapse(diagnostic)[:MAX_DIAGNOSTIC],
    )
